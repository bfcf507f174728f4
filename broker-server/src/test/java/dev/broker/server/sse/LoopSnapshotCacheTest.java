package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The snapshot cache of one loop against a store whose reads the test completes by hand, so that the races the
 * end-to-end tests hit only by luck happen every time: an event delivered while the filling read is in flight
 * (and missed by it), a read that is ahead of the loop's feed, and the one read shared by a storm.
 */
@Timeout(30)
class LoopSnapshotCacheTest {

    private static final String TENANT = LoopFixture.TENANT;

    private ManualLog log;
    private LoopFixture fixture;

    @BeforeEach
    void start() {
        log = new ManualLog();
        fixture = new LoopFixture(log);
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private static Event event(long id, String name) {
        return new Event(id, TENANT, name, 0, ("\"" + name + id + "\"").getBytes(StandardCharsets.US_ASCII));
    }

    private static String frame(long id, String name) {
        return "id:" + id + "\nevent:" + name + "\ndata:\"" + name + id + "\"\n\n";
    }

    private EmbeddedChannel open() throws Exception {
        return fixture.open(null);
    }

    private void deliver(Event event) throws Exception {
        fixture.deliver(event);
    }

    private String written(EmbeddedChannel channel) throws Exception {
        return fixture.written(channel);
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return fixture.onLoop(task);
    }

    @Test
    void aStormSharesOneReadAndGetsWhatTheFeedDeliveredWhileItRan() throws Exception {
        deliver(event(1, "a"));
        EmbeddedChannel first = open();
        // The read is issued; the feed then delivers a:3, which the read below missed (it ran just before).
        assertEquals(1, log.readCount());
        deliver(event(3, "a"));
        EmbeddedChannel second = open();
        assertEquals(1, log.readCount(), "a stream arriving while the read runs waits for it");
        assertEquals("", written(first));

        log.read(0).complete(List.of(event(1, "a"), event(2, "b")));
        String snapshot = frame(2, "b") + frame(3, "a");
        assertEquals(snapshot, written(first));
        assertEquals(snapshot, written(second));

        deliver(event(4, "c"));
        assertEquals(frame(4, "c"), written(first));
        assertEquals(frame(4, "c"), written(second));

        EmbeddedChannel third = open();
        assertEquals(1, log.readCount(), "a ready cache needs no read");
        assertEquals(snapshot + frame(4, "c"), written(third));
        deliver(event(5, "b"));
        assertEquals(frame(5, "b"), written(third));
    }

    @Test
    void aReadAheadOfTheFeedHoldsTheStreamBackUntilTheFeedPassesIt() throws Exception {
        EmbeddedChannel stream = open();
        // The read sees b:2, which the feed has not handed to this loop yet.
        log.read(0).complete(List.of(event(1, "a"), event(2, "b")));
        assertEquals(frame(1, "a") + frame(2, "b"), written(stream));
        deliver(event(1, "a"));
        deliver(event(2, "b"));
        assertEquals("", written(stream), "nothing twice");
        deliver(event(3, "a"));
        assertEquals(frame(3, "a"), written(stream));
        deliver(event(4, "c"));
        assertEquals(frame(4, "c"), written(stream));
        assertEquals(frame(2, "b") + frame(3, "a") + frame(4, "c"), written(open()));
    }

    @Test
    void theCacheOutlivesItsLastStreamForTheLingerThenIsReleased() throws Exception {
        EmbeddedChannel stream = open();
        log.read(0).complete(List.of(event(1, "a")));
        assertEquals(frame(1, "a"), written(stream));
        onLoop(stream::close);

        // Kept current while nobody listens.
        deliver(event(2, "b"));
        assertEquals(frame(1, "a") + frame(2, "b"), written(open()));
        assertEquals(1, log.readCount());

        onLoop(() -> {
            fixture.channels.forEach(EmbeddedChannel::close);
            fixture.history.sweep(System.nanoTime() + LoopFixture.SETTINGS.lingerNanos() / 2);
            return null;
        });
        open();
        assertEquals(1, log.readCount(), "still lingering halfway through the linger");
        onLoop(() -> {
            fixture.channels.forEach(EmbeddedChannel::close);
            fixture.history.sweep(System.nanoTime() + LoopFixture.SETTINGS.lingerNanos());
            return null;
        });
        open();
        assertEquals(2, log.readCount(), "a swept tenant reads again");
    }

    @Test
    void aFailedReadClosesTheWaitingStreamsAndTheNextStreamReadsAgain() throws Exception {
        EmbeddedChannel stream = open();
        log.read(0).completeExceptionally(new IllegalStateException("disk on fire"));
        assertTrue(onLoop(() -> !stream.isOpen()));
        EmbeddedChannel next = open();
        assertEquals(2, log.readCount());
        log.read(1).complete(List.of(event(1, "a")));
        assertEquals(frame(1, "a"), written(next));
    }
}
