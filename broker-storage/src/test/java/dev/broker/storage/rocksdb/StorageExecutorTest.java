package dev.broker.storage.rocksdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.StorageException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class StorageExecutorTest {

    @Test
    void anErrorInACallFailsItsFutureInsteadOfLeavingItPending() throws Exception {
        StorageExecutor executor = StorageExecutor.pool("test-reader-", 1, () -> true);
        try {
            CompletableFuture<Object> failed = executor.run("latest", () -> {
                throw new OutOfMemoryError("Java heap space (simulated)");
            });
            ExecutionException e = assertThrows(ExecutionException.class, () -> failed.get(10, TimeUnit.SECONDS));
            assertInstanceOf(StorageException.class, e.getCause());
            assertTrue(e.getCause().getMessage().startsWith("latest: "), e.getCause().getMessage());
            // The pool replaced the thread that died of it.
            assertEquals("ok", executor.run("after", () -> "ok").get(10, TimeUnit.SECONDS));
        } finally {
            assertTrue(executor.shutdownAndAwait(Duration.ofSeconds(10)));
        }
    }
}
