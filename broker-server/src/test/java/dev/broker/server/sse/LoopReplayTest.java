package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.broker.storage.Event;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Streams resuming from the same Last-Event-ID share one replay read, against a store whose reads the test completes
 * by hand — but a stream arriving after the loop delivered an event since that read was issued reads for itself,
 * else it could miss that event.
 */
@Timeout(30)
class LoopReplayTest {

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

    private static Event event(long id) {
        return new Event(id, TENANT, "n", 0, Long.toString(id).getBytes(StandardCharsets.US_ASCII));
    }

    private EmbeddedChannel resume(long lastEventId) throws Exception {
        return fixture.open(lastEventId);
    }

    private void deliver(Event event) throws Exception {
        fixture.deliver(event);
    }

    private String ids(EmbeddedChannel channel) throws Exception {
        return fixture.written(channel).replaceAll("(?s)id:(\\d+)\nevent:n\ndata:\\d+\n\n", "$1 ").trim();
    }

    @Test
    void resumesFromOneIdShareARead() throws Exception {
        deliver(event(5));
        EmbeddedChannel a = resume(3);
        EmbeddedChannel b = resume(3);
        EmbeddedChannel c = resume(4); // another id: its own read
        assertEquals(2, log.readCount());
        log.read(0).complete(List.of(event(4), event(5)));
        log.read(1).complete(List.of(event(5)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String ia = "";
        String ib = "";
        String ic = "";
        while (!(ia.equals("4 5") && ib.equals("4 5") && ic.equals("5")) && System.nanoTime() < deadline) {
            ia = (ia + " " + ids(a)).trim();
            ib = (ib + " " + ids(b)).trim();
            ic = (ic + " " + ids(c)).trim();
            Thread.sleep(5);
        }
        assertEquals("4 5", ia);
        assertEquals("4 5", ib);
        assertEquals("5", ic);
    }

    @Test
    void aStreamArrivingAfterADeliveryReadsForItself() throws Exception {
        deliver(event(5));
        EmbeddedChannel a = resume(3);
        deliver(event(6)); // a has joined: 6 is queued for it; a newcomer would not have it queued
        EmbeddedChannel b = resume(3);
        assertEquals(2, log.readCount(), "the second stream must not share a read issued before event 6");
        // The first read ran before 6 was readable; the second after.
        log.read(0).complete(List.of(event(4), event(5)));
        log.read(1).complete(List.of(event(4), event(5), event(6)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String ia = "";
        String ib = "";
        while (!(ia.equals("4 5 6") && ib.equals("4 5 6")) && System.nanoTime() < deadline) {
            ia = (ia + " " + ids(a)).trim();
            ib = (ib + " " + ids(b)).trim();
            Thread.sleep(5);
        }
        assertEquals("4 5 6", ia);
        assertEquals("4 5 6", ib);
    }

    @Test
    void aCompletedReadServesLaterStreamsUntilTheNextDelivery() throws Exception {
        deliver(event(5));
        EmbeddedChannel a = resume(4);
        log.read(0).complete(List.of(event(5)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String ia = "";
        while (!ia.equals("5") && System.nanoTime() < deadline) {
            ia = (ia + " " + ids(a)).trim();
            Thread.sleep(5);
        }
        assertEquals("5", ia);
        EmbeddedChannel b = resume(4); // the read is done, and nothing was delivered since it was issued
        assertEquals(1, log.readCount());
        assertEquals("5", ids(b));
        deliver(event(6));
        resume(4);
        assertEquals(2, log.readCount(), "after a delivery a stream reads afresh");
    }
}
