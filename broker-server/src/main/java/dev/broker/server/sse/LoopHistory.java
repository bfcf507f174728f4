package dev.broker.server.sse;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The history part of one event loop (see the package description): each tenant's {@link SnapshotCache}, filled
 * by one store read that the streams arriving meanwhile wait for and kept current by every delivery; and replay
 * reads shared by streams resuming from the same id. A tenant without streams keeps its cache for the linger, so
 * that the clients of a dropped connection, all reconnecting, find it warm. Touched only on the loop.
 */
final class LoopHistory implements History, LoopDelivery.Listener {

    private static final System.Logger LOG = System.getLogger(LoopHistory.class.getName());

    /** Replay reads kept per tenant and loop for streams resuming from the same id. */
    static final int MAX_SHARED_READS = 16;
    /** A completed replay read is kept for sharing only up to this many bytes of event data. */
    static final long MAX_SHARED_READ_BYTES = 1024 * 1024;

    /** A replay read, its page size and the loop's feed position when it was issued. */
    private record SharedRead(CompletableFuture<List<Event>> read, int limit, long issuedAtDeliveredId) {
    }

    /** One tenant's history on this loop. */
    private static final class TenantHistory {
        final String tenant;
        final SnapshotCache cache;
        /** Streams waiting for the read that fills the cache. */
        final List<CompletableFuture<CachedSnapshot>> waiting = new ArrayList<>();
        final Map<Long, SharedRead> replayReads = new HashMap<>(2);
        /** Open streams of the tenant on this loop. */
        int streams;
        /** When the last stream left (System.nanoTime), while the cache lingers; 0 while in use. */
        long idleSince;
        /** Removed from the loop: a read completing later must not touch it. */
        boolean released;

        TenantHistory(String tenant, SnapshotCache cache) {
            this.tenant = tenant;
            this.cache = cache;
        }
    }

    private final EventLoop loop;
    private final EventLog log;
    private final ByteBufAllocator alloc;
    private final SseSettings settings;
    /** The bytes the snapshot caches of this loop hold together, against their limit. */
    private final SnapshotCache.Budget cacheBudget;
    private final long lingerNanos;
    /** The id of the last event the loop delivered: whether a replay read can still be shared depends on it. */
    private long lastDeliveredId;
    private final Map<String, TenantHistory> tenants = new HashMap<>();
    /** Set by {@link #closeAll}: no more caching, and tenants go as soon as their streams do. */
    private boolean closing;

    LoopHistory(EventLoop loop, EventLog log, ByteBufAllocator alloc, SseSettings settings) {
        this.loop = loop;
        this.log = log;
        this.alloc = alloc;
        this.settings = settings;
        this.cacheBudget = new SnapshotCache.Budget(settings.snapshotCacheLoopBytes());
        this.lingerNanos = settings.lingerNanos();
    }

    @Override
    public void delivered(String tenant, String name, long id, ByteBuf frame) {
        lastDeliveredId = id;
        TenantHistory history = tenants.get(tenant);
        if (history != null) {
            history.cache.record(name, id, frame);
        }
    }

    @Override
    public void opened(String tenant) {
        TenantHistory history = tenants.computeIfAbsent(tenant, t -> new TenantHistory(t, new SnapshotCache(
                cacheBudget, settings.snapshotCacheNames(), settings.snapshotCacheBytes())));
        history.streams++;
        history.idleSince = 0;
    }

    @Override
    public void closed(String tenant) {
        TenantHistory history = tenants.get(tenant);
        if (history != null && --history.streams == 0) {
            leaveIfUnused(history);
        }
    }

    @Override
    public CompletableFuture<CachedSnapshot> cachedSnapshot(String tenant) {
        TenantHistory history = tenants.get(tenant);
        if (closing || history == null) {
            return null;
        }
        SnapshotCache cache = history.cache;
        switch (cache.state()) {
            case READY:
                return CompletableFuture.completedFuture(new CachedSnapshot(cache.snapshot(alloc), cache.lastId()));
            case EMPTY:
                fill(history);
                // fall through: wait for it
            case FILLING:
                CompletableFuture<CachedSnapshot> snapshot = new CompletableFuture<>();
                history.waiting.add(snapshot);
                return snapshot;
            default:
                return null;
        }
    }

    private void fill(TenantHistory history) {
        // Recording starts before the read is issued: the read sees every event delivered so far.
        history.cache.startFilling();
        log.latest(history.tenant).whenCompleteAsync((events, failure) -> filled(history, events, failure), loop);
    }

    private void filled(TenantHistory history, List<Event> events, Throwable failure) {
        if (history.released) {
            return;
        }
        List<CompletableFuture<CachedSnapshot>> waiting = List.copyOf(history.waiting);
        history.waiting.clear();
        if (failure != null) {
            LOG.log(Level.ERROR, "reading the snapshot of a tenant failed; closing the streams waiting for it", failure);
            history.cache.clear();
            waiting.forEach(stream -> stream.completeExceptionally(failure));
            return;
        }
        history.cache.fill(events, alloc);
        for (CompletableFuture<CachedSnapshot> stream : waiting) {
            if (history.cache.state() == SnapshotCache.State.READY && !closing) {
                stream.complete(new CachedSnapshot(history.cache.snapshot(alloc), history.cache.lastId()));
            } else {
                // Over the cache's limits: the stream reads the store itself.
                stream.complete(null);
            }
        }
    }

    @Override
    public CompletableFuture<List<Event>> latest(String tenant) {
        return log.latest(tenant);
    }

    /**
     * Streams resuming from the same id share one read — after a restart or a network blip, thousands resume from
     * the same id — for as long as the loop has delivered nothing since the read was issued: every event delivered
     * before then is in the read (the store makes events readable before it hands them to the feed), and every
     * later one is queued for the stream, which joined before asking. After a delivery the next stream reads afresh.
     */
    @Override
    public CompletableFuture<List<Event>> after(String tenant, long afterId, int limit) {
        TenantHistory history = tenants.get(tenant);
        if (history == null) {
            return log.after(tenant, afterId, limit);
        }
        long deliveredId = lastDeliveredId;
        Map<Long, SharedRead> reads = history.replayReads;
        SharedRead shared = reads.get(afterId);
        if (shared != null && shared.limit() == limit && shared.issuedAtDeliveredId() == deliveredId) {
            return shared.read();
        }
        reads.values().removeIf(read -> read.issuedAtDeliveredId() != deliveredId);
        CompletableFuture<List<Event>> read = log.after(tenant, afterId, limit);
        if (reads.size() < MAX_SHARED_READS) {
            SharedRead issued = new SharedRead(read, limit, deliveredId);
            reads.put(afterId, issued);
            read.whenCompleteAsync((events, failure) -> {
                if (failure != null || dataBytes(events) > MAX_SHARED_READ_BYTES) {
                    reads.remove(afterId, issued);
                }
            }, loop);
        }
        return read;
    }

    @Override
    public CompletableFuture<Long> lastIssuedId() {
        return log.lastIssuedId();
    }

    private static long dataBytes(List<Event> events) {
        long bytes = 0;
        for (Event event : events) {
            bytes += event.data().length;
        }
        return bytes;
    }

    /** A tenant without streams lingers while its cache is worth keeping, else goes at once. */
    private void leaveIfUnused(TenantHistory history) {
        SnapshotCache.State cache = history.cache.state();
        if (!closing && (cache == SnapshotCache.State.READY || cache == SnapshotCache.State.FILLING)) {
            // Never 0, which means in use.
            history.idleSince = System.nanoTime() | 1;
        } else {
            remove(history);
        }
    }

    /** Drops the tenants whose linger is over; run every {@link SseSettings#sweepIntervalNanos}. */
    void sweep() {
        sweep(System.nanoTime());
    }

    void sweep(long now) {
        for (Iterator<TenantHistory> it = tenants.values().iterator(); it.hasNext(); ) {
            TenantHistory history = it.next();
            if (history.idleSince != 0 && now - history.idleSince >= lingerNanos) {
                it.remove();
                release(history);
            }
        }
    }

    /** Shutdown: no more caching; the caches are freed now, and tenants go as their streams close. */
    void closeAll() {
        closing = true;
        for (Iterator<TenantHistory> it = tenants.values().iterator(); it.hasNext(); ) {
            TenantHistory history = it.next();
            history.cache.release();
            if (history.streams == 0) {
                it.remove();
                release(history);
            }
        }
    }

    private void remove(TenantHistory history) {
        tenants.remove(history.tenant);
        release(history);
    }

    private static void release(TenantHistory history) {
        history.released = true;
        history.cache.release();
        history.replayReads.clear();
        // Streams still waiting for a fill read the store themselves (they are closing anyway).
        history.waiting.forEach(stream -> stream.complete(null));
        history.waiting.clear();
    }

    /** After the loop terminated (no race with it): whatever tenants are left. */
    void releaseAfterTermination() {
        tenants.values().forEach(LoopHistory::release);
        tenants.clear();
    }
}
