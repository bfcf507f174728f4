package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer tells its observer of every batch it makes durable: the appends it carried and the time it took. */
class CommitObserverTest {

    @TempDir
    Path dir;

    @Test
    void toldOfEveryAppendMadeDurable() throws Exception {
        AtomicLong appends = new AtomicLong();
        AtomicLong batches = new AtomicLong();
        AtomicLong nanos = new AtomicLong();
        try (RocksStorage storage = RocksStorage.open(dir.resolve("db"))) {
            storage.observeCommits((n, took) -> {
                appends.addAndGet(n);
                batches.incrementAndGet();
                nanos.addAndGet(took);
            });
            List<CompletableFuture<Event>> appended = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                appended.add(storage.events().append("t", "e" + i, json("{}")));
            }
            for (CompletableFuture<Event> future : appended) {
                await(future);
            }
        }

        assertEquals(50, appends.get());
        assertTrue(batches.get() >= 1 && batches.get() <= 50, "batches: " + batches);
        assertTrue(nanos.get() > 0);
    }
}
