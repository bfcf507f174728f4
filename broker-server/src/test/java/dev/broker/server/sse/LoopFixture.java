package dev.broker.server.sse;

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
import java.util.concurrent.TimeUnit;

/**
 * One event loop's {@link LoopDelivery} and {@link LoopHistory} over a store the test provides, with {@link EmbeddedChannel}s as streams:
 * for tests that drive the fan-out, the snapshot cache and the hand-off by hand, one step at a time.
 */
final class LoopFixture implements AutoCloseable {

    static final String TENANT = "t";
    static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
    /** Fan-outs cut into tasks of 3 streams, so that tests with a few streams cross task boundaries. */
    static final SseSettings SETTINGS = SseSettings.defaults().withFanOutChunk(3);

    final DefaultEventLoop loop = new DefaultEventLoop();
    final EventLog log;
    final LoopHistory history;
    final LoopDelivery delivery;
    final List<EmbeddedChannel> channels = new ArrayList<>();

    /** The server-wide budget of history reads, here this loop's alone. */
    final HistoryBudget budget;

    LoopFixture(EventLog log) {
        this(log, new HistoryBudget(SETTINGS.historyBudgetBytes()));
    }

    LoopFixture(EventLog log, HistoryBudget budget) {
        this(log, budget, LoopHistory.MAX_WAITING_STREAMS);
    }

    /** With {@code budget} (perhaps shared with other fixtures, as the loops of a server share one). */
    LoopFixture(EventLog log, HistoryBudget budget, int maxWaitingStreams) {
        this(log, SETTINGS, budget, maxWaitingStreams);
    }

    LoopFixture(EventLog log, SseSettings settings, HistoryBudget budget, int maxWaitingStreams) {
        this.log = log;
        this.budget = budget;
        this.history = new LoopHistory(loop, log, ALLOC, settings, budget, LoopHistory.PAGE_EVENTS,
                LoopHistory.PAGE_DATA_BYTES, maxWaitingStreams);
        this.delivery = new LoopDelivery(loop, settings, history);
    }

    <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    /** A new stream on the loop, started as SseHub.open starts it: a snapshot, or a replay after {@code lastEventId}. */
    EmbeddedChannel open(Long lastEventId) throws Exception {
        return onLoop(() -> {
            // Each its own id: EmbeddedChannels share one by default.
            EmbeddedChannel channel = new EmbeddedChannel(DefaultChannelId.newInstance(), SseStreamHandler.INSTANCE);
            channels.add(channel);
            new SseSession(channel, new Principal("u", TENANT), delivery, history).start(lastEventId);
            return channel;
        });
    }

    /** The feed hands the loop an event, without waiting for it to be delivered. */
    void post(Event event) {
        delivery.post(event.tenant(), event.name(), event.id(), SseFrames.encode(ALLOC, event));
    }

    /** The feed hands the loop an event; returns once the loop has delivered it. */
    void deliver(Event event) throws Exception {
        post(event);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!onLoop(() -> delivery.feedHasPassed(event.id()))) {
            assertTrue(System.nanoTime() < deadline, "event " + event.id() + " not delivered");
            Thread.sleep(5);
        }
    }

    /** Everything written to the channel since the last call, as text (the buffers released). */
    String written(EmbeddedChannel channel) throws Exception {
        return onLoop(() -> {
            // A session continues a store read on its channel's loop: an EmbeddedChannel's runs when asked to.
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

    @Override
    public void close() throws Exception {
        onLoop(() -> {
            for (EmbeddedChannel channel : channels) {
                channel.finishAndReleaseAll();
            }
            history.closeAll();
            delivery.closeAll();
            return null;
        });
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        delivery.releaseAfterTermination();
        history.releaseAfterTermination();
    }
}
