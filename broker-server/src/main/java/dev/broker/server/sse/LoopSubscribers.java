package dev.broker.server.sse;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The streams of one event loop, by tenant. Touched only on that loop, so the fan-out takes no lock. Events reach
 * the loop through a lock-free inbox: the first event of a burst schedules one drain task, which concatenates every
 * event waiting by then into one buffer per tenant and writes it once to each of the tenant's live streams, a
 * thousand streams per task with the loop's I/O in between. So a burst costs about one syscall per stream, however
 * many events it holds, while a lone event still leaves at once.
 *
 * <p>A new stream without {@code Last-Event-ID} gets its snapshot from the tenant's {@link SnapshotCache} on this
 * loop, written and promoted to live in one task, so no event can fall between. While the cache fills, new streams
 * wait for that one read. A tenant without streams is kept for the configured linger, so that the clients of a
 * dropped connection all reconnecting find the cache warm.
 */
final class LoopSubscribers {

    private static final System.Logger LOG = System.getLogger(LoopSubscribers.class.getName());


    /** One burst of a tenant on its way to the streams that were live when it was made. */
    private static final class FanOut {
        final ByteBuf burst;
        final SseSession[] targets;
        int next;

        FanOut(ByteBuf burst, SseSession[] targets) {
            this.burst = burst;
            this.targets = targets;
        }
    }


    /** An encoded event on its way to this loop. */
    private record Delivery(String tenant, String name, long id, ByteBuf frame) {
    }

    final EventLoop loop;
    private final SseSettings settings;
    /** How long a tenant's snapshot cache outlives its last stream on this loop. */
    private final long lingerNanos;
    /** See {@link SseSettings#drainIntervalMillis}. */
    private final long minDrainIntervalNanos;
    /** The bytes the snapshot caches of this loop hold together, against their limit. */
    private final SnapshotCache.Budget cacheBudget;
    private final EventLog log;
    private final ByteBufAllocator alloc;
    private final Map<String, TenantSubscribers> tenants = new HashMap<>();
    private final List<TenantSubscribers> dirty = new ArrayList<>();
    private final Queue<Delivery> inbox = PlatformDependent.newMpscQueue();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drainInbox;
    /** Bursts made and not yet written to every stream, oldest first; touched only on the loop. */
    private final ArrayDeque<FanOut> fanOuts = new ArrayDeque<>();
    private boolean fanOutScheduled;
    /** A drain came while fan-outs were still being written: it runs when they are done. */
    private boolean drainDeferred;
    /** Inside the drain's delivery loop, which writes the fan-outs it makes when it ends. */
    private boolean drainRunning;
    private final Runnable continueFanOutTask = () -> {
        if (fanOutScheduled) {
            continueFanOut();
        }
    };
    /** When the last drain ran (written on the loop, read by posting threads). */
    private volatile long lastDrainNanos;
    /** The id of the last event this loop took from the feed (of any tenant). */
    private long lastDeliveredId;
    /** Set by {@link #closeAll}: no more caching, and tenants go as soon as their streams do. */
    private boolean closing;

    LoopSubscribers(EventLoop loop, EventLog log, ByteBufAllocator alloc, SseSettings settings) {
        this.settings = settings;
        this.lingerNanos = settings.lingerNanos();
        this.minDrainIntervalNanos = settings.drainIntervalNanos();
        this.lastDrainNanos = System.nanoTime() - minDrainIntervalNanos;
        this.cacheBudget = new SnapshotCache.Budget(settings.snapshotCacheLoopBytes());
        this.loop = loop;
        this.log = log;
        this.alloc = alloc;
        // A drain waiting for its interval is a scheduled task, and a loop that shuts down cancels those: release
        // whatever it would have delivered, and the cached snapshots (the loop no longer runs, so no race).
        loop.terminationFuture().addListener(terminated -> {
            releaseInbox();
            releaseFanOuts();
            releaseTenants();
        });
    }

    /** Hands an encoded event (ownership taken) to this loop; callable from any thread. */
    void post(String tenant, String name, long id, ByteBuf frame) {
        inbox.offer(new Delivery(tenant, name, id, frame));
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                long wait = lastDrainNanos + minDrainIntervalNanos - System.nanoTime();
                if (wait <= 0) {
                    loop.execute(drainTask);
                } else {
                    loop.schedule(drainTask, wait, TimeUnit.NANOSECONDS);
                }
            } catch (RejectedExecutionException shuttingDown) {
                releaseInbox();
            }
        }
    }

    private void drainInbox() {
        assert loop.inEventLoop() : "fan-out off its event loop";
        if (!fanOuts.isEmpty()) {
            // Still writing the last bursts: the events gather meanwhile and leave together once that is done, so
            // under load the bursts grow instead of the number of writes. (drainScheduled stays set until then.)
            drainDeferred = true;
            return;
        }
        drainDeferred = false;
        // Cleared first: an event offered from now on schedules another drain, so none can be stranded.
        drainScheduled.set(false);
        lastDrainNanos = System.nanoTime();
        Delivery delivery;
        drainRunning = true;
        try {
            while ((delivery = inbox.poll()) != null) {
                deliver(delivery.tenant, delivery.name, delivery.id, delivery.frame);
            }
        } finally {
            drainRunning = false;
        }
        for (TenantSubscribers subscribers : dirty) {
            subscribers.dirty = false;
            ByteBuf burst = subscribers.takeBurst();
            if (burst != null) {
                fanOuts.add(new FanOut(burst, subscribers.live.snapshot()));
            }
        }
        dirty.clear();
        writeFanOuts();
    }

    /** Starts writing the waiting fan-outs, unless a task doing so is already scheduled. */
    private void writeFanOuts() {
        if (!fanOutScheduled) {
            continueFanOut();
        }
    }

    /**
     * Writes the waiting fan-outs, oldest first, at most {@link SseSettings#fanOutChunk} streams per task: a burst for
     * thousands of streams is cut into tasks with the loop's I/O in between, so that an insert or a new stream on
     * this loop is not kept waiting for the whole burst. Each stream still gets the bursts in order: fan-outs leave
     * strictly in the order they were made.
     */
    private void continueFanOut() {
        fanOutScheduled = false;
        int budget = settings.fanOutChunk();
        FanOut fanOut;
        while (budget > 0 && (fanOut = fanOuts.peek()) != null) {
            int end = Math.min(fanOut.targets.length, fanOut.next + budget);
            for (int i = fanOut.next; i < end; i++) {
                Channel channel = fanOut.targets[i].channel();
                // A stream that closed since the fan-out was made has left its tenant: skip it.
                if (channel.isActive()) {
                    channel.writeAndFlush(fanOut.burst.retainedDuplicate(), channel.voidPromise());
                }
            }
            budget -= end - fanOut.next;
            fanOut.next = end;
            if (end == fanOut.targets.length) {
                fanOuts.poll();
                fanOut.burst.release();
            }
        }
        if (fanOuts.isEmpty()) {
            if (drainDeferred) {
                drainInbox();
            }
        } else {
            fanOutScheduled = true;
            try {
                // Scheduled, not executed: a scheduled task runs after the loop's next I/O pass, a plain task would
                // run in this same batch of tasks.
                loop.schedule(continueFanOutTask, 0, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException shuttingDown) {
                releaseFanOuts();
            }
        }
    }

    /** On the loop, or after it terminated: what was still to be written is dropped. */
    private void releaseFanOuts() {
        FanOut fanOut;
        while ((fanOut = fanOuts.poll()) != null) {
            fanOut.burst.release();
        }
    }

    /** Only after the loop stopped draining (or never started): synchronized, as the inbox has one consumer. */
    private synchronized void releaseInbox() {
        Delivery delivery;
        while ((delivery = inbox.poll()) != null) {
            delivery.frame.release();
        }
    }

    /** Writes one event (ownership taken) to the tenant's streams on this loop; the drain flushes. */
    private void deliver(String tenant, String name, long id, ByteBuf frame) {
        // Every event of every tenant passes every loop, in id order.
        lastDeliveredId = id;
        TenantSubscribers subscribers = tenants.get(tenant);
        if (subscribers == null) {
            frame.release();
            return;
        }
        subscribers.cache.record(name, id, frame);
        if (!subscribers.live.isEmpty()) {
            subscribers.addToBurst(frame.retain());
            if (!subscribers.dirty) {
                subscribers.dirty = true;
                dirty.add(subscribers);
            }
        }
        // After the group write, and over a copy: a session that joins the group from enqueue must not get the
        // event twice.
        if (!subscribers.joining.isEmpty()) {
            for (SseSession session : List.copyOf(subscribers.joining)) {
                session.enqueue(id, frame.retainedDuplicate());
            }
        }
        frame.release();
    }

    /** Replay reads kept per tenant and loop for streams resuming from the same id. */
    static final int MAX_SHARED_READS = 16;
    /** A completed replay read is kept for sharing only up to this many bytes of event data. */
    static final long MAX_SHARED_READ_BYTES = 1024 * 1024;

    /**
     * Events of the tenant after {@code afterId}, for a stream that has joined (call it on the loop). Streams resuming
     * from the same id share one read — after a restart or a network blip, thousands resume from the same id — for
     * as long as the loop has delivered nothing since the read was issued: every event delivered before then is in
     * the read (the store makes events readable before it hands them to the feed), and every later one is queued for
     * the stream, which joined before asking. After a delivery the next stream reads afresh.
     */
    CompletableFuture<List<Event>> after(String tenant, long afterId, int limit) {
        TenantSubscribers subscribers = tenants.get(tenant);
        if (subscribers == null) {
            return log.after(tenant, afterId, limit);
        }
        Map<Long, TenantSubscribers.SharedRead> reads = subscribers.replayReads;
        TenantSubscribers.SharedRead shared = reads.get(afterId);
        if (shared != null && shared.limit() == limit && shared.issuedAtDeliveredId() == lastDeliveredId) {
            return shared.read();
        }
        reads.values().removeIf(read -> read.issuedAtDeliveredId() != lastDeliveredId);
        CompletableFuture<List<Event>> read = log.after(tenant, afterId, limit);
        if (reads.size() < MAX_SHARED_READS) {
            TenantSubscribers.SharedRead issued = new TenantSubscribers.SharedRead(read, limit, lastDeliveredId);
            reads.put(afterId, issued);
            read.whenCompleteAsync((events, failure) -> {
                if (failure != null || dataBytes(events) > MAX_SHARED_READ_BYTES) {
                    reads.remove(afterId, issued);
                }
            }, loop);
        }
        return read;
    }

    private static long dataBytes(List<Event> events) {
        long bytes = 0;
        for (Event event : events) {
            bytes += event.data().length;
        }
        return bytes;
    }

    /** Whether the feed has brought this loop every event up to {@code id}. */
    boolean feedHasPassed(long id) {
        return lastDeliveredId >= id;
    }

    void join(SseSession session) {
        tenant(session.principal().tenant()).joining.add(session);
    }

    private TenantSubscribers tenant(String tenant) {
        TenantSubscribers subscribers = tenants.computeIfAbsent(tenant, t -> new TenantSubscribers(t, cacheBudget, settings));
        subscribers.idleSince = 0;
        return subscribers;
    }

    /**
     * Starts a stream's snapshot from the cache: at once when it is ready, else once the one read that fills it
     * completes. False when the tenant is not cached (too large, or shutting down): the session reads it itself.
     */
    boolean snapshotFromCache(SseSession session) {
        if (closing) {
            return false;
        }
        TenantSubscribers subscribers = tenant(session.principal().tenant());
        switch (subscribers.cache.state()) {
            case READY -> serveSnapshot(subscribers, session);
            case FILLING -> subscribers.awaitingSnapshot.add(session);
            case EMPTY -> {
                subscribers.awaitingSnapshot.add(session);
                fill(subscribers);
            }
            case OFF -> {
                return false;
            }
        }
        return true;
    }

    private void fill(TenantSubscribers subscribers) {
        // Recording starts before the read is issued: the read sees every event delivered so far.
        subscribers.cache.startFilling();
        log.latest(subscribers.tenant)
                .whenCompleteAsync((events, failure) -> filled(subscribers, events, failure), loop);
    }

    private void filled(TenantSubscribers subscribers, List<Event> events, Throwable failure) {
        if (subscribers.released || closing) {
            return;
        }
        List<SseSession> waiting = List.copyOf(subscribers.awaitingSnapshot);
        subscribers.awaitingSnapshot.clear();
        if (failure != null) {
            LOG.log(Level.ERROR, "reading the snapshot of a tenant failed; closing the streams waiting for it", failure);
            subscribers.cache.clear();
            waiting.forEach(session -> session.channel().close());
            leaveIfUnused(subscribers);
            return;
        }
        subscribers.cache.fill(events, alloc);
        for (SseSession session : waiting) {
            if (subscribers.cache.state() == SnapshotCache.State.READY) {
                serveSnapshot(subscribers, session);
            } else {
                // Over the cache's limits: it joined after the read was issued, so it needs a read of its own.
                session.readSnapshot();
            }
        }
    }

    private void serveSnapshot(TenantSubscribers subscribers, SseSession session) {
        subscribers.joining.add(session);
        session.sendCachedSnapshot(subscribers.cache.snapshot(alloc), subscribers.cache.lastId());
    }

    /** The session has caught up: from now on it is fed by the group. */
    void promote(SseSession session) {
        TenantSubscribers subscribers = tenants.get(session.principal().tenant());
        subscribers.joining.remove(session);
        // The burst so far belongs to the streams already live (the newcomer wrote those events itself, or had
        // them from history): it goes to them, after the fan-outs before it, and the newcomer joins after.
        ByteBuf pending = subscribers.takeBurst();
        if (pending != null) {
            fanOuts.add(new FanOut(pending, subscribers.live.snapshot()));
            if (!drainRunning) {
                writeFanOuts();
            }
        }
        subscribers.live.add(session);
    }

    void leave(SseSession session) {
        String tenant = session.principal().tenant();
        TenantSubscribers subscribers = tenants.get(tenant);
        if (subscribers == null) {
            return;
        }
        subscribers.joining.remove(session);
        subscribers.awaitingSnapshot.remove(session);
        subscribers.live.remove(session);
        leaveIfUnused(subscribers);
    }

    /** A tenant without streams lingers while its cache is worth keeping, else goes at once. */
    private void leaveIfUnused(TenantSubscribers subscribers) {
        if (!subscribers.isEmpty() || subscribers.idleSince != 0) {
            return;
        }
        SnapshotCache.State cache = subscribers.cache.state();
        if (!closing && (cache == SnapshotCache.State.READY || cache == SnapshotCache.State.FILLING)) {
            // Never 0, which means in use.
            subscribers.idleSince = System.nanoTime() | 1;
        } else {
            tenants.remove(subscribers.tenant);
            subscribers.release();
        }
    }

    /** Drops the tenants whose linger is over; run every {@link SseSettings#sweepIntervalNanos}. */
    void sweep() {
        sweep(System.nanoTime());
    }

    void sweep(long now) {
        for (Iterator<TenantSubscribers> it = tenants.values().iterator(); it.hasNext(); ) {
            TenantSubscribers subscribers = it.next();
            if (subscribers.idleSince != 0 && now - subscribers.idleSince >= lingerNanos) {
                it.remove();
                subscribers.release();
            }
        }
    }

    /** How many tenants this loop holds (streams or a lingering cache); for tests. */
    int tenantCount() {
        return tenants.size();
    }

    void heartbeat() {
        for (TenantSubscribers subscribers : tenants.values()) {
            if (!subscribers.live.isEmpty()) {
                subscribers.live.writeAndFlush(SseFrames.HEARTBEAT.duplicate());
            }
            for (SseSession session : subscribers.joining) {
                if (session.caughtUp()) {
                    session.channel().writeAndFlush(SseFrames.HEARTBEAT.duplicate(), session.channel().voidPromise());
                }
            }
        }
    }

    void closeStreamsOf(String tenant, String username) {
        TenantSubscribers subscribers = tenants.get(tenant);
        if (subscribers == null) {
            return;
        }
        List<Channel> doomed = new ArrayList<>();
        subscribers.forEachSession(session -> {
            if (session.principal().username().equals(username)) {
                doomed.add(session.channel());
            }
        });
        doomed.forEach(Channel::close);
    }

    void closeAll() {
        closing = true;
        List<Channel> all = new ArrayList<>();
        for (Iterator<TenantSubscribers> it = tenants.values().iterator(); it.hasNext(); ) {
            TenantSubscribers subscribers = it.next();
            subscribers.forEachSession(session -> all.add(session.channel()));
            subscribers.cache.release();
            if (subscribers.isEmpty()) {
                it.remove();
                subscribers.release();
            }
        }
        all.forEach(Channel::close);
    }

    /** After the loop terminated (no race with it): whatever tenants are left. */
    private void releaseTenants() {
        tenants.values().forEach(TenantSubscribers::release);
        tenants.clear();
    }
}
