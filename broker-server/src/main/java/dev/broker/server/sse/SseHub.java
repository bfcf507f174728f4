package dev.broker.server.sse;

import dev.broker.server.auth.Principal;
import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The SSE fan-out's one entry point. It listens to the store's feed: each event is encoded once, and the same bytes
 * go to every event loop, whose {@link LoopDelivery} writes them to its streams of the event's tenant and whose
 * {@link LoopHistory} keeps its snapshot caches current. Runs one heartbeat timer per loop for all its streams and
 * one sweep of the snapshot caches that outlived their streams; closes streams on revocation and shutdown. See the
 * package description for how a stream goes from history to live.
 */
public final class SseHub implements Consumer<Event> {

    /** One event loop's parts. */
    private record Loop(EventLoop loop, LoopDelivery delivery, LoopHistory history) {
    }

    private final ByteBufAllocator alloc;
    private final Predicate<Principal> stillAllowed;
    private final Map<EventExecutor, Loop> byLoop = new IdentityHashMap<>();
    private final List<Loop> loops = new ArrayList<>();
    private final SseStats stats = new SseStats();

    /**
     * @param stillAllowed whether a principal may still stream (not revoked), asked on the loop as a stream opens:
     *                     a revocation that came after the request was authenticated but before its stream joined
     *                     the hub would otherwise miss it ({@link #closeStreamsOf} closes only streams it finds).
     *                     The caller must make a revocation visible to it before calling {@code closeStreamsOf}.
     */
    public SseHub(EventLoopGroup group, ByteBufAllocator alloc, EventLog log, SseSettings settings,
                  Predicate<Principal> stillAllowed) {
        this.alloc = alloc;
        this.stillAllowed = stillAllowed;
        // One budget for the whole server: the loops' history reads share the heap.
        HistoryBudget budget = new HistoryBudget(settings.historyBudgetBytes());
        for (EventExecutor executor : group) {
            EventLoop eventLoop = (EventLoop) executor;
            LoopHistory history = new LoopHistory(eventLoop, log, alloc, settings, budget);
            LoopDelivery delivery = new LoopDelivery(eventLoop, settings, history, stats);
            Loop loop = new Loop(eventLoop, delivery, history);
            eventLoop.terminationFuture().addListener(terminated -> {
                delivery.releaseAfterTermination();
                history.releaseAfterTermination();
            });
            byLoop.put(executor, loop);
            loops.add(loop);
            long sweepNanos = settings.sweepIntervalNanos();
            executor.scheduleAtFixedRate(loop.history::sweep, sweepNanos, sweepNanos, TimeUnit.NANOSECONDS);
            int heartbeatSeconds = settings.heartbeatSeconds();
            if (heartbeatSeconds > 0) {
                executor.scheduleAtFixedRate(delivery::heartbeat, heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
            }
        }
    }

    /** The server's SSE counts (streams, deliveries, slow consumers, snapshot cache), for metrics. */
    public SseStats stats() {
        return stats;
    }

    /** Called by the feed, on a storage thread, for every durable event in id order. */
    @Override
    public void accept(Event event) {
        ByteBuf frame = SseFrames.encode(alloc, event);
        try {
            for (Loop loop : loops) {
                loop.delivery.post(event.tenant(), event.name(), event.id(), frame.retainedDuplicate());
            }
        } finally {
            frame.release();
        }
    }

    /** Starts a stream on its channel's loop (call it there): history first, then live events. */
    public void open(Channel channel, Principal principal, Long lastEventId) {
        if (!stillAllowed.test(principal)) {
            channel.close(); // revoked since the request was authenticated
            return;
        }
        Loop loop = byLoop.get(channel.eventLoop());
        new SseSession(channel, principal, loop.delivery, loop.history).start(lastEventId);
    }

    /** Closes every open stream of the user (revocation). */
    public void closeStreamsOf(String tenant, String username) {
        for (Loop loop : loops) {
            loop.loop.execute(() -> loop.delivery.closeStreamsOf(tenant, username));
        }
    }

    /**
     * The fan-out's counters: the events taken, read on each loop (a plain field there), and the deliveries of
     * {@link #stats()}. Fails if a loop has shut down.
     */
    public CompletableFuture<SseCounters> counters() {
        return onEveryLoop(loop -> loop.delivery.counters(), SseCounters::plus)
                .thenApply(counters -> new SseCounters(counters.events(), stats.deliveries()));
    }

    /** The open streams of every tenant that has any, counted on each loop; fails if a loop has shut down. */
    public CompletableFuture<Map<String, Integer>> openStreamsByTenant() {
        return onEveryLoop(loop -> {
            Map<String, Integer> counts = new HashMap<>();
            loop.delivery.countStreams(counts);
            return counts;
        }, (a, b) -> {
            b.forEach((tenant, count) -> a.merge(tenant, count, Integer::sum));
            return a;
        });
    }

    private <T> CompletableFuture<T> onEveryLoop(Function<Loop, T> read, BinaryOperator<T> combine) {
        CompletableFuture<T> result = null;
        for (Loop loop : loops) {
            CompletableFuture<T> one = new CompletableFuture<>();
            try {
                loop.loop.execute(() -> one.complete(read.apply(loop)));
            } catch (RejectedExecutionException shutDown) {
                one.completeExceptionally(shutDown);
            }
            result = result == null ? one : result.thenCombine(one, combine);
        }
        return result;
    }

    /** Closes every stream (shutdown). */
    public void closeAll() {
        for (Loop loop : loops) {
            try {
                loop.loop.submit(() -> {
                    loop.history.closeAll();
                    loop.delivery.closeAll();
                }).syncUninterruptibly();
            } catch (RejectedExecutionException alreadyDown) {
                // nothing left to close on that loop
            }
        }
    }
}
