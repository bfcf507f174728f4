package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.LogCapture;
import dev.broker.storage.Event;
import dev.broker.storage.HistoryTrimmedException;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A replay whose history retention removed while it was under way writes no gap: the stream is closed, quietly
 * (an expected race, not a storage fault), and its client's reconnect starts from the snapshot.
 */
@Timeout(30)
class SseHistoryTrimmedTest {

    @RegisterExtension
    final LogCapture logs = new LogCapture();

    private final ManualLog log = new ManualLog();
    private final LoopFixture fixture = new LoopFixture(log);

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    @Test
    void aReplayIntoRemovedHistoryClosesTheStreamWithoutWritingOrAnError() throws Exception {
        fixture.deliver(new Event(5, LoopFixture.TENANT, "n", 0, "5".getBytes(StandardCharsets.US_ASCII)));
        EmbeddedChannel stream = fixture.open(3L);
        assertEquals(1, log.readCount());

        log.read(0).completeExceptionally(new HistoryTrimmedException("after: retention removed events"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (fixture.onLoop(() -> {
            stream.runPendingTasks();
            return stream.isOpen();
        })) {
            assertTrue(System.nanoTime() < deadline, "the stream is closed");
            Thread.sleep(5);
        }

        assertEquals("", fixture.written(stream));
        assertFalse(logs.linesContaining("SEVERE").stream().anyMatch(line -> line.contains("history")),
                logs.linesContaining("history").toString());
    }
}
