package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.auth.Principal;
import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
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
class LoopSubscribersReplayTest {

    private static final String TENANT = "t";
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private static final class ManualLog implements EventLog {
        final List<CompletableFuture<List<Event>>> reads = new ArrayList<>();

        @Override
        public CompletableFuture<Event> append(String tenant, String name, byte[] data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<List<Event>> latest(String tenant) {
            throw new UnsupportedOperationException();
        }

        @Override
        public synchronized CompletableFuture<List<Event>> after(String tenant, long afterId, int limit) {
            CompletableFuture<List<Event>> read = new CompletableFuture<>();
            reads.add(read);
            return read;
        }

        synchronized int readCount() {
            return reads.size();
        }

        synchronized CompletableFuture<List<Event>> read(int i) {
            return reads.get(i);
        }
    }

    private DefaultEventLoop loop;
    private ManualLog log;
    private LoopSubscribers subscribers;
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @BeforeEach
    void start() {
        loop = new DefaultEventLoop();
        log = new ManualLog();
        subscribers = new LoopSubscribers(loop, log, ALLOC);
    }

    @AfterEach
    void stop() throws Exception {
        onLoop(() -> {
            for (EmbeddedChannel channel : channels) {
                channel.finishAndReleaseAll();
            }
            subscribers.closeAll();
            return null;
        });
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    private static Event event(long id) {
        return new Event(id, TENANT, "n", 0, Long.toString(id).getBytes(StandardCharsets.US_ASCII));
    }

    private EmbeddedChannel resume(long lastEventId) throws Exception {
        return onLoop(() -> {
            EmbeddedChannel channel = new EmbeddedChannel(DefaultChannelId.newInstance(), SseStreamHandler.INSTANCE);
            channels.add(channel);
            new SseSession(channel, new Principal("u", TENANT), log, subscribers).start(lastEventId);
            return channel;
        });
    }

    private void deliver(Event event) throws Exception {
        subscribers.post(TENANT, event.name(), event.id(), SseFrames.encode(ALLOC, event));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!onLoop(() -> subscribers.feedHasPassed(event.id()))) {
            assertTrue(System.nanoTime() < deadline, "event " + event.id() + " not delivered");
            Thread.sleep(5);
        }
    }

    private String written(EmbeddedChannel channel) throws Exception {
        return onLoop(() -> {
            // The session continues a read on its channel's loop: an EmbeddedChannel's runs when asked to.
            channel.runPendingTasks();
            StringBuilder text = new StringBuilder();
            ByteBuf buf;
            while ((buf = channel.readOutbound()) != null) {
                text.append(buf.toString(StandardCharsets.US_ASCII));
                buf.release();
            }
            return text.toString();
        });
    }

    private String ids(EmbeddedChannel channel) throws Exception {
        return written(channel).replaceAll("(?s)id:(\\d+)\nevent:n\ndata:\\d+\n\n", "$1 ").trim();
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
