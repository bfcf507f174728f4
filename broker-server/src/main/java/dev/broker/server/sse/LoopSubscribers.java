package dev.broker.server.sse;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelMatchers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The streams of one event loop, by tenant. Touched only on that loop, so the fan-out takes no lock: an event
 * arrives as one task per loop, is written (not flushed) to every live stream of its tenant, and the loop flushes
 * the touched groups once after the tasks already queued have run — so a burst of events leaves in a few
 * syscalls per stream rather than one per event.
 */
final class LoopSubscribers {

    final EventLoop loop;
    private final Map<String, TenantSubscribers> tenants = new HashMap<>();
    private final List<TenantSubscribers> dirty = new ArrayList<>();
    private boolean flushScheduled;
    private final Runnable flushTask = this::flushDirty;

    LoopSubscribers(EventLoop loop) {
        this.loop = loop;
    }

    /** Delivers one encoded event (ownership taken) to the tenant's streams on this loop. */
    void deliver(String tenant, long id, ByteBuf frame) {
        TenantSubscribers subscribers = tenants.get(tenant);
        if (subscribers == null) {
            frame.release();
            return;
        }
        for (int i = 0; i < subscribers.joining.size(); i++) {
            subscribers.joining.get(i).enqueue(id, frame.retainedDuplicate());
        }
        if (subscribers.live.isEmpty()) {
            frame.release();
            return;
        }
        subscribers.live.write(frame, ChannelMatchers.all(), true);
        if (!subscribers.dirty) {
            subscribers.dirty = true;
            dirty.add(subscribers);
        }
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(flushTask);
        }
    }

    private void flushDirty() {
        flushScheduled = false;
        for (TenantSubscribers subscribers : dirty) {
            subscribers.dirty = false;
            subscribers.live.flush();
        }
        dirty.clear();
    }

    void join(SseSession session) {
        tenants.computeIfAbsent(session.principal().tenant(), t -> new TenantSubscribers(t, loop)).joining.add(session);
    }

    /** The session has caught up: from now on it is fed by the group. */
    void promote(SseSession session) {
        TenantSubscribers subscribers = tenants.get(session.principal().tenant());
        subscribers.joining.remove(session);
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
