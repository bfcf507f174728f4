package dev.broker.server.sse;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The delivery part of one event loop (see the package description): events reach the loop through a lock-free
 * inbox; the first event of a burst schedules one drain, which takes every event waiting by then into its tenant's
 * burst and writes each burst once to each of the tenant's live streams. So a burst costs about one syscall per
 * stream, however many events it holds, while a lone event after a quiet spell still leaves at once. Under a steady
 * stream, at most one drain runs per drain interval, so the syscalls per delivery fall as the event rate rises.
 *
 * <p>Everything but {@link #post} runs on the loop.
 */
final class LoopDelivery {

    /** An encoded event on its way to this loop. */
    private record Delivery(String tenant, String name, long id, ByteBuf frame) {
    }

    /** Told of every event the loop takes from its inbox, in id order (the frame is not given away). */
    interface Listener {
        void delivered(String tenant, String name, long id, ByteBuf frame);
    }

    final EventLoop loop;
    /** The server's counts, shared by every loop. */
    final SseStats stats;
    private final Listener listener;
    private final long minDrainIntervalNanos;
    private final Map<String, TenantGroup> tenants = new HashMap<>();
    /** Groups whose burst started since the last drain. */
    private final List<TenantGroup> pendingBursts = new ArrayList<>();
    private final Queue<Delivery> inbox = PlatformDependent.newMpscQueue();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drain;
    private final FanOuts fanOuts;
    /** A drain came while fan-outs were still being written: it runs when they are done. */
    private boolean drainDeferred;
    /** When the last drain ran (written on the loop, read by posting threads). */
    private volatile long lastDrainNanos;
    /** The id of the last event this loop took from its inbox (of any tenant). */
    private long lastDeliveredId;
    /** Events taken from the inbox: plain, loop-only (deliveries are counted server-wide in {@link SseStats}). */
    private long eventsTaken;

    LoopDelivery(EventLoop loop, SseSettings settings, Listener listener) {
        this(loop, settings, listener, new SseStats());
    }

    LoopDelivery(EventLoop loop, SseSettings settings, Listener listener, SseStats stats) {
        this.loop = loop;
        this.stats = stats;
        this.listener = listener;
        this.minDrainIntervalNanos = settings.drainIntervalNanos();
        this.lastDrainNanos = System.nanoTime() - minDrainIntervalNanos;
        this.fanOuts = new FanOuts(loop, settings.fanOutChunk(), () -> {
            if (drainDeferred) {
                drain();
            }
        });
    }

    /**
     * After the loop terminated (so no race with it): a drain waiting for its interval is a scheduled task, and a
     * loop that shuts down cancels those; releases whatever it would have delivered.
     */
    void releaseAfterTermination() {
        releaseInbox();
        fanOuts.release();
        tenants.values().forEach(TenantGroup::release);
    }

    /** Hands an encoded event (ownership taken) to this loop; callable from any thread, in id order. */
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

    /**
     * Takes every event waiting in the inbox into the loop's state now — the history listener, the bursts, the
     * queues of streams writing history — without writing anything to live streams: after this, the loop reflects
     * every insert answered so far (the hand-off rule's step 2). The next drain writes the bursts.
     */
    void catchUp() {
        assert loop.inEventLoop() : "delivery off its event loop";
        Delivery delivery;
        while ((delivery = inbox.poll()) != null) {
            deliver(delivery);
        }
    }

    private void deliver(Delivery delivery) {
        // Every event of every tenant passes every loop, in id order.
        lastDeliveredId = delivery.id;
        eventsTaken++;
        listener.delivered(delivery.tenant, delivery.name, delivery.id, delivery.frame);
        TenantGroup group = tenants.get(delivery.tenant);
        if (group != null && group.deliver(delivery.id, delivery.frame)) {
            pendingBursts.add(group);
        }
        delivery.frame.release();
    }

    private void drain() {
        if (fanOuts.busy()) {
            // Still writing the last bursts: the events gather meanwhile and leave together once that is done, so
            // under load the bursts grow instead of the number of writes. (drainScheduled stays set until then.)
            drainDeferred = true;
            return;
        }
        drainDeferred = false;
        // Cleared first: an event offered from now on schedules another drain, so none can be stranded.
        drainScheduled.set(false);
        lastDrainNanos = System.nanoTime();
        catchUp();
        for (TenantGroup group : pendingBursts) {
            group.drainTo(fanOuts, stats);
        }
        pendingBursts.clear();
        fanOuts.start();
    }

    /** Whether the loop has taken every event up to {@code id} from its inbox. */
    boolean feedHasPassed(long id) {
        return lastDeliveredId >= id;
    }

    void open(SseSession session) {
        tenants.computeIfAbsent(session.tenant(), TenantGroup::new).open(session);
    }

    void join(SseSession session) {
        tenants.get(session.tenant()).join(session);
    }

    void goLive(SseSession session) {
        tenants.get(session.tenant()).goLive(session);
    }

    void leave(SseSession session) {
        TenantGroup group = tenants.get(session.tenant());
        if (group != null) {
            group.leave(session);
            if (group.isEmpty()) {
                tenants.remove(group.tenant);
                // A pending burst goes with it; the drain skips the group (nobody is left to get it).
                pendingBursts.remove(group);
                group.release();
            }
        }
    }

    void heartbeat() {
        for (TenantGroup group : tenants.values()) {
            group.heartbeat();
        }
    }

    void closeStreamsOf(String tenant, String username) {
        TenantGroup group = tenants.get(tenant);
        if (group == null) {
            return;
        }
        List<Channel> doomed = new ArrayList<>();
        group.forEachSession(session -> {
            // The operator's streams (no username) are no user's.
            if (username.equals(session.principal().username())) {
                doomed.add(session.channel());
            }
        });
        doomed.forEach(Channel::close);
    }

    /** This loop's counters (on the loop). */
    SseCounters counters() {
        return new SseCounters(eventsTaken, 0);
    }

    /** Adds this loop's open streams, by tenant, to {@code into} (on the loop). */
    void countStreams(Map<String, Integer> into) {
        for (TenantGroup group : tenants.values()) {
            int[] count = new int[1];
            group.forEachSession(session -> count[0]++);
            into.merge(group.tenant, count[0], Integer::sum);
        }
    }

    void closeAll() {
        List<Channel> all = new ArrayList<>();
        for (Iterator<TenantGroup> it = tenants.values().iterator(); it.hasNext(); ) {
            it.next().forEachSession(session -> all.add(session.channel()));
        }
        all.forEach(Channel::close);
    }

    /** Only after the loop stopped draining (or never started): synchronized, as the inbox has one consumer. */
    private synchronized void releaseInbox() {
        Delivery delivery;
        while ((delivery = inbox.poll()) != null) {
            delivery.frame.release();
        }
    }
}
