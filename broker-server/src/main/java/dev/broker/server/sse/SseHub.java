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
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Fans new events out to the SSE streams. It listens to the store's feed: each event is encoded once, and the
 * same bytes go to every event loop, which writes them to its streams of the event's tenant (see
 * {@link LoopSubscribers}). Also runs one heartbeat timer per loop for all its streams, and one sweep of the
 * snapshot caches that outlived their streams, and closes streams on revocation and shutdown.
 */
public final class SseHub implements Consumer<Event> {

    private final ByteBufAllocator alloc;
    private final EventLog log;
    private final Map<EventExecutor, LoopSubscribers> byLoop = new IdentityHashMap<>();
    private final List<LoopSubscribers> loops = new ArrayList<>();

    public SseHub(EventLoopGroup group, ByteBufAllocator alloc, EventLog log, SseSettings settings) {
        this.alloc = alloc;
        this.log = log;
        for (EventExecutor executor : group) {
            LoopSubscribers subscribers = new LoopSubscribers((EventLoop) executor, log, alloc, settings);
            byLoop.put(executor, subscribers);
            loops.add(subscribers);
            long sweepNanos = settings.sweepIntervalNanos();
            executor.scheduleAtFixedRate(subscribers::sweep, sweepNanos, sweepNanos, TimeUnit.NANOSECONDS);
            int heartbeatSeconds = settings.heartbeatSeconds();
            if (heartbeatSeconds > 0) {
                executor.scheduleAtFixedRate(subscribers::heartbeat, heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
            }
        }
    }

    /** Called by the feed, on a storage thread, for every durable event in id order. */
    @Override
    public void accept(Event event) {
        ByteBuf frame = SseFrames.encode(alloc, event);
        try {
            for (LoopSubscribers subscribers : loops) {
                subscribers.post(event.tenant(), event.name(), event.id(), frame.retainedDuplicate());
            }
        } finally {
            frame.release();
        }
    }

    /** Starts a stream on its channel's loop (call it there): history first, then live events. */
    public void open(Channel channel, Principal principal, Long lastEventId) {
        LoopSubscribers subscribers = byLoop.get(channel.eventLoop());
        new SseSession(channel, principal, log, subscribers).start(lastEventId);
    }

    /** Closes every open stream of the user (revocation). */
    public void closeStreamsOf(String tenant, String username) {
        for (LoopSubscribers subscribers : loops) {
            subscribers.loop.execute(() -> subscribers.closeStreamsOf(tenant, username));
        }
    }

    /** Closes every stream (shutdown). */
    public void closeAll() {
        for (LoopSubscribers subscribers : loops) {
            try {
                subscribers.loop.submit(subscribers::closeAll).syncUninterruptibly();
            } catch (RejectedExecutionException alreadyDown) {
                // nothing left to close on that loop
            }
        }
    }
}
