package dev.broker.server.sse;

import io.netty.buffer.ByteBuf;
import dev.broker.storage.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One tenant's streams on one event loop: the live ones, those still catching up, and those
 * waiting for the snapshot cache to fill; plus the cache, which outlives the last stream for a while.
 */
final class TenantSubscribers {

    final String tenant;
    final LiveStreams live = new LiveStreams();
    final List<SseSession> joining = new ArrayList<>(2);
    /** New streams waiting for the cache's read; a set, as a storm of them may close while they wait. */
    final Set<SseSession> awaitingSnapshot = new LinkedHashSet<>();
    /** Replay reads by the id they read after, shared by the streams resuming from that id (see LoopSubscribers). */
    final Map<Long, SharedRead> replayReads = new HashMap<>(2);

    /** A read, its page size and the loop's feed position when it was issued. */
    record SharedRead(CompletableFuture<List<Event>> read, int limit, long issuedAtDeliveredId) {
    }
    final SnapshotCache cache;
    /** When the last stream left (System.nanoTime), while the tenant is kept for its cache; 0 while in use. */
    long idleSince;
    /** Removed from its loop: a read completing later must not touch it. */
    boolean released;
    /** Whether the group has writes waiting for the loop's next flush. */
    boolean dirty;
    /**
     * The frames of the current burst for the live group, concatenated: the whole burst goes to each stream as one
     * buffer (one outbound entry, one iovec), so that N events cost each stream one write, not N.
     */
    private ByteBuf burst;
    private int burstFrames;

    TenantSubscribers(String tenant, SnapshotCache.Budget cacheBudget, SseSettings settings) {
        this.tenant = tenant;
        this.cache = new SnapshotCache(cacheBudget, settings.snapshotCacheNames(), settings.snapshotCacheBytes());
    }

    /**
     * Adds a frame (ownership taken) to the burst for the live group. The frame's indexes are left alone: the same
     * buffer is duplicated for the sessions still catching up.
     */
    void addToBurst(ByteBuf frame) {
        if (burst == null) {
            burst = frame;
        } else {
            if (burstFrames == 1) {
                ByteBuf first = burst;
                burst = frame.alloc().directBuffer(Math.max(1024, 4 * (first.readableBytes() + frame.readableBytes())));
                burst.writeBytes(first, first.readerIndex(), first.readableBytes());
                first.release();
            }
            burst.writeBytes(frame, frame.readerIndex(), frame.readableBytes());
            frame.release();
        }
        burstFrames++;
    }

    /** The burst so far (ownership passed to the caller), or null; the next frame starts a new one. */
    ByteBuf takeBurst() {
        ByteBuf taken = burst;
        burst = null;
        burstFrames = 0;
        return taken;
    }

    boolean isEmpty() {
        return live.isEmpty() && joining.isEmpty() && awaitingSnapshot.isEmpty();
    }

    /** Every stream of the tenant on this loop: live, catching up, or waiting for the snapshot cache. */
    void forEachSession(Consumer<SseSession> action) {
        live.forEach(action);
        joining.forEach(action);
        awaitingSnapshot.forEach(action);
    }

    /** Once removed from the loop: frees the cached bytes (and a burst, though none outlives a drain). */
    void release() {
        released = true;
        cache.release();
        replayReads.clear();
        ByteBuf pending = takeBurst();
        if (pending != null) {
            pending.release();
        }
    }
}
