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
 * The snapshot cache of one loop against a store whose reads the test completes by hand, so that the races the
 * end-to-end tests hit only by luck happen every time: an event delivered while the filling read is in flight
 * (and missed by it), a read that is ahead of the loop's feed, and the one read shared by a storm.
 */
@Timeout(30)
class LoopSubscribersSnapshotCacheTest {

    private static final String TENANT = "t";
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** A store whose snapshot reads wait for the test. */
    private static final class ManualLog implements EventLog {
        final List<CompletableFuture<List<Event>>> reads = new ArrayList<>();

        @Override
        public CompletableFuture<Event> append(String tenant, String name, byte[] data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public synchronized CompletableFuture<List<Event>> latest(String tenant) {
            CompletableFuture<List<Event>> read = new CompletableFuture<>();
            reads.add(read);
            return read;
        }

        @Override
        public CompletableFuture<List<Event>> after(String tenant, long afterId, int limit) {
            throw new UnsupportedOperationException();
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

    private static Event event(long id, String name) {
        return new Event(id, TENANT, name, 0, ("\"" + name + id + "\"").getBytes(StandardCharsets.US_ASCII));
    }

    private static String frame(long id, String name) {
        return "id:" + id + "\nevent:" + name + "\ndata:\"" + name + id + "\"\n\n";
    }

    /** A new stream without Last-Event-ID on the loop, as SseHub.open starts it. */
    private EmbeddedChannel open() throws Exception {
        return onLoop(() -> {
            // Each its own id: EmbeddedChannels share one by default, and a ChannelGroup keeps channels by id.
            EmbeddedChannel channel = new EmbeddedChannel(DefaultChannelId.newInstance(), SseStreamHandler.INSTANCE);
            channels.add(channel);
            new SseSession(channel, new Principal("u", TENANT), log, subscribers).start(null);
            return channel;
        });
    }

    /** The feed hands the loop an event; returns once the loop has delivered it. */
    private void deliver(Event event) throws Exception {
        ByteBuf frame = SseFrames.encode(ALLOC, event);
        subscribers.post(event.tenant(), event.name(), event.id(), frame);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!onLoop(() -> subscribers.feedHasPassed(event.id()))) {
            assertTrue(System.nanoTime() < deadline, "event " + event.id() + " not delivered");
            Thread.sleep(5);
        }
    }

    /** Everything written to the channel so far, as text (the buffers released). */
    private String written(EmbeddedChannel channel) throws Exception {
        return onLoop(() -> {
            StringBuilder text = new StringBuilder();
            ByteBuf buf;
            while ((buf = channel.readOutbound()) != null) {
                text.append(buf.toString(StandardCharsets.US_ASCII));
                buf.release();
            }
            return text.toString();
        });
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
        assertEquals(1, (int) onLoop(subscribers::tenantCount), "lingers");

        // Kept current while nobody listens.
        deliver(event(2, "b"));
        assertEquals(frame(1, "a") + frame(2, "b"), written(open()));
        assertEquals(1, log.readCount());

        onLoop(() -> {
            channels.forEach(EmbeddedChannel::close);
            subscribers.sweep(System.nanoTime() + LoopSubscribers.LINGER_NANOS);
            return null;
        });
        assertEquals(0, (int) onLoop(subscribers::tenantCount), "swept after the linger");
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
