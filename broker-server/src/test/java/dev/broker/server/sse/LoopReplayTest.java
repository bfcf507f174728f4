package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * by hand — but a stream arriving after the loop delivered an event since that read was issued does not share it,
 * else it could miss that event: it waits for the next read, with every stream arriving meanwhile.
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
    void aStreamArrivingAfterADeliveryWaitsForTheNextRead() throws Exception {
        deliver(event(5));
        EmbeddedChannel a = resume(3);
        deliver(event(6)); // a has joined: 6 is queued for it; a newcomer would not have it queued
        EmbeddedChannel b = resume(3);
        EmbeddedChannel c = resume(3);
        assertEquals(1, log.readCount(), "streams arriving after a delivery wait for the running read to end");
        // The first read ran before 6 was readable; the next one, shared by b and c, after.
        log.read(0).complete(List.of(event(4), event(5)));
        awaitReads(2);
        log.read(1).complete(List.of(event(4), event(5), event(6)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String ia = "";
        String ib = "";
        String ic = "";
        while (!(ia.equals("4 5 6") && ib.equals("4 5 6") && ic.equals("4 5 6")) && System.nanoTime() < deadline) {
            ia = (ia + " " + ids(a)).trim();
            ib = (ib + " " + ids(b)).trim();
            ic = (ic + " " + ids(c)).trim();
            Thread.sleep(5);
        }
        assertEquals("4 5 6", ia);
        assertEquals("4 5 6", ib);
        assertEquals("4 5 6", ic);
        assertEquals(2, log.readCount());
        assertEquals(0, fixture.onLoop(fixture.budget::used), "every read given back");
    }

    @Test
    void aCompletedReadIsGivenBackWithItsLastStream() throws Exception {
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
        assertEquals(0, fixture.onLoop(fixture.budget::used), "the read's bytes went back with its only stream");
        resume(4); // nothing delivered since, but nobody holds the read any more: a new one
        assertEquals(2, log.readCount());
    }

    @Test
    void aPageCutByItsDataBoundIsFollowedByTheNext() throws Exception {
        deliver(event(2));
        EmbeddedChannel a = resume(0);
        // One event whose data reaches the page's bound: there may be more.
        byte[] big = ("\"" + "x".repeat((int) LoopHistory.PAGE_DATA_BYTES) + "\"").getBytes(StandardCharsets.US_ASCII);
        log.read(0).complete(List.of(new Event(1, TENANT, "n", 0, big)));
        StringBuilder text = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (log.readCount() < 2 && System.nanoTime() < deadline) {
            text.append(fixture.written(a)); // the stream writes the page on its own loop, then asks for the next
            Thread.sleep(5);
        }
        assertEquals(2, log.readCount(), "a page that reached its data bound is followed by another");
        log.read(1).complete(List.of(event(2)));
        while (!text.toString().endsWith("id:2\nevent:n\ndata:2\n\n") && System.nanoTime() < deadline) {
            text.append(fixture.written(a));
            Thread.sleep(5);
        }
        assertTrue(text.toString().startsWith("id:1\nevent:n\ndata:\"xxx"), text.substring(0, 40));
        assertTrue(text.toString().endsWith("id:2\nevent:n\ndata:2\n\n"));
        assertEquals(2, log.readCount(), "a short page ends the replay");
    }

    private void awaitReads(int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (log.readCount() < count) {
            assertTrue(System.nanoTime() < deadline, "only " + log.readCount() + " reads issued");
            Thread.sleep(5);
        }
    }
}
