package dev.broker.server.sse;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelMatchers;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The streams of one event loop, by tenant. Touched only on that loop, so the fan-out takes no lock. Events reach
 * the loop through a lock-free inbox: the first event of a burst schedules one drain task, which writes every
 * event waiting by then to the live streams of its tenant and flushes each touched stream once at the end. So a
 * burst costs one task and about one syscall per stream, however many events it holds, while a lone event still
 * leaves at once.
 */
final class LoopSubscribers {

    /** An encoded event on its way to this loop. */
    private record Delivery(String tenant, long id, ByteBuf frame) {
    }

    final EventLoop loop;
    private final Map<String, TenantSubscribers> tenants = new HashMap<>();
    private final List<TenantSubscribers> dirty = new ArrayList<>();
    private final Queue<Delivery> inbox = PlatformDependent.newMpscQueue();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drainInbox;
    /**
     * At most one drain per this interval: a lone event after a quiet spell leaves at once, but under a steady
     * stream the events of the interval leave together, as one write per stream. This bounds the added latency
     * while making the syscalls per delivery fall as the event rate rises.
     */
    static final long MIN_DRAIN_INTERVAL_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("broker.sse.drainIntervalMillis", 25));
    /** When the last drain ran (written on the loop, read by posting threads). */
    private volatile long lastDrainNanos = System.nanoTime() - MIN_DRAIN_INTERVAL_NANOS;
    /** The id of the last event this loop took from the feed (of any tenant). */
    private long lastDeliveredId;

    LoopSubscribers(EventLoop loop) {
        this.loop = loop;
        // A drain waiting for its interval is a scheduled task, and a loop that shuts down cancels those: release
        // whatever it would have delivered.
        loop.terminationFuture().addListener(terminated -> releaseInbox());
    }

    /** Hands an encoded event (ownership taken) to this loop; callable from any thread. */
    void post(String tenant, long id, ByteBuf frame) {
        inbox.offer(new Delivery(tenant, id, frame));
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                long wait = lastDrainNanos + MIN_DRAIN_INTERVAL_NANOS - System.nanoTime();
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
        // Cleared first: an event offered from now on schedules another drain, so none can be stranded.
        drainScheduled.set(false);
        lastDrainNanos = System.nanoTime();
        Delivery delivery;
        while ((delivery = inbox.poll()) != null) {
            deliver(delivery.tenant, delivery.id, delivery.frame);
        }
        for (TenantSubscribers subscribers : dirty) {
            subscribers.dirty = false;
            ByteBuf burst = subscribers.takeBurst();
            if (burst != null) {
                // The whole burst, as one shared buffer, to every live stream: one write each.
                subscribers.live.write(burst, ChannelMatchers.all(), true);
            }
            subscribers.live.flush();
        }
        dirty.clear();
    }

    /** Only after the loop stopped draining (or never started): synchronized, as the inbox has one consumer. */
    private synchronized void releaseInbox() {
        Delivery delivery;
        while ((delivery = inbox.poll()) != null) {
            delivery.frame.release();
        }
    }

    /** Writes one event (ownership taken) to the tenant's streams on this loop; the drain flushes. */
    private void deliver(String tenant, long id, ByteBuf frame) {
        // Every event of every tenant passes every loop, in id order.
        lastDeliveredId = id;
        TenantSubscribers subscribers = tenants.get(tenant);
        if (subscribers == null) {
            frame.release();
            return;
        }
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

    /** Whether the feed has brought this loop every event up to {@code id}. */
    boolean feedHasPassed(long id) {
        return lastDeliveredId >= id;
    }

    void join(SseSession session) {
        tenants.computeIfAbsent(session.principal().tenant(), t -> new TenantSubscribers(t, loop)).joining.add(session);
    }

    /** The session has caught up: from now on it is fed by the group. */
    void promote(SseSession session) {
        TenantSubscribers subscribers = tenants.get(session.principal().tenant());
        subscribers.joining.remove(session);
        // The burst so far belongs to the streams already live (the newcomer wrote those events itself, or had
        // them from history): send it to them before the newcomer joins; the drain flushes.
        ByteBuf pending = subscribers.takeBurst();
        if (pending != null) {
            subscribers.live.write(pending, ChannelMatchers.all(), true);
        }
        subscribers.live.add(session.channel());
    }

    void leave(SseSession session) {
        String tenant = session.principal().tenant();
        TenantSubscribers subscribers = tenants.get(tenant);
        if (subscribers == null) {
            return;
        }
        subscribers.joining.remove(session);
        subscribers.live.remove(session.channel());
        if (subscribers.isEmpty()) {
            tenants.remove(tenant);
        }
    }

    void heartbeat() {
        for (TenantSubscribers subscribers : tenants.values()) {
            if (!subscribers.live.isEmpty()) {
                subscribers.live.writeAndFlush(SseFrames.HEARTBEAT.duplicate(), ChannelMatchers.all(), true);
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
        for (Channel channel : subscribers.live) {
            SseSession session = SseSession.of(channel);
            if (session != null && session.principal().username().equals(username)) {
                doomed.add(channel);
            }
        }
        for (SseSession session : subscribers.joining) {
            if (session.principal().username().equals(username)) {
                doomed.add(session.channel());
            }
        }
        doomed.forEach(Channel::close);
    }

    void closeAll() {
        List<Channel> all = new ArrayList<>();
        for (TenantSubscribers subscribers : tenants.values()) {
            all.addAll(subscribers.live);
            subscribers.joining.forEach(session -> all.add(session.channel()));
        }
        all.forEach(Channel::close);
    }
}
