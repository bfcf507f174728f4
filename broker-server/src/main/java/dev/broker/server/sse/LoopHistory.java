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
 * by one store read that the streams arriving meanwhile wait for and kept current by every delivery; and the store
 * reads of streams that cannot use a cache — snapshots too large to cache and replays after {@code Last-Event-ID} —
 * shared by the streams of a tenant that ask for the same history. A tenant without streams keeps its cache for the
 * linger, so that the clients of a dropped connection, all reconnecting, find it warm. Touched only on the loop.
 *
 * <p>Every store read first takes room in the server's {@link HistoryBudget}; until it gets it, the streams that
 * will share it wait here without having joined their tenant (so nothing is queued for them). Past
 * {@link #MAX_WAITING_STREAMS} waiting streams on the loop, a newcomer is {@link History.Refused refused} and
 * closed; it resumes with {@code Last-Event-ID} like any closed stream.
 */
final class LoopHistory implements History, LoopDelivery.Listener {

    private static final System.Logger LOG = System.getLogger(LoopHistory.class.getName());

    /** Events per replay page. */
    static final int PAGE_EVENTS = 512;
    /** A replay page ends with the event that brings its data to this many bytes (see {@link EventLog#after}). */
    static final long PAGE_DATA_BYTES = 256 * 1024;
    /**
     * What a snapshot read of a tenant is assumed to hold before its size is known on the loop (the cache's bounded
     * fill read counts it first, so only a read while shutting down, when nothing is cached, goes by this).
     */
    static final long SNAPSHOT_ESTIMATE_BYTES = 256 * 1024;
    /** Streams of the loop that may wait for a store read to be issued; past it a newcomer is closed. */
    static final int MAX_WAITING_STREAMS = 1024;
    /** The key of a tenant's snapshot read among its shared reads (the others are keyed by their afterId, >= 0). */
    private static final long SNAPSHOT = -1;

    /**
     * QUEUED: behind a read of the same history that was issued before the last delivery and is still running (the
     * streams arriving meanwhile will share the next one); REQUESTED: waiting for the budget; ISSUED: running;
     * DONE: its page is there; FAILED; ABANDONED: every stream left before it was issued.
     */
    private enum ReadState { QUEUED, REQUESTED, ISSUED, DONE, FAILED, ABANDONED }

    /**
     * One store read of a tenant's history (its snapshot, or the page after one id), shared by the streams that
     * asked for it while it could be shared: those waiting for it when it was issued, and those arriving with nothing
     * delivered on the loop since (see {@link #after}). Its bytes stay in the budget until the last of them is done.
     */
    private final class SharedRead {
        final TenantHistory tenant;
        final long key;
        final CompletableFuture<Page> page = new CompletableFuture<>();
        /** Streams waiting for it to be issued; they join their tenant when it is. */
        final List<Share> waiting = new ArrayList<>(1);
        ReadState state;
        /** Streams holding it (issued for them, or shared since) and not done with it. */
        int users;
        long issuedAtDeliveredId;
        HistoryBudget.Grant grant;
        /** The read queued behind this one, requested when this one completes. */
        SharedRead next;

        SharedRead(TenantHistory tenant, long key, ReadState state) {
            this.tenant = tenant;
            this.key = key;
            this.state = state;
        }

        boolean shareable() {
            return (state == ReadState.ISSUED || state == ReadState.DONE) && issuedAtDeliveredId == lastDeliveredId;
        }
    }

    /** A stream's share of a {@link SharedRead}. */
    private final class Share implements Read {
        final SharedRead read;
        final Runnable join;
        /** Counted among the read's users (it was issued for the stream, or shared); else still waiting. */
        boolean holding;
        boolean done;

        Share(SharedRead read, Runnable join) {
            this.read = read;
            this.join = join;
        }

        @Override
        public CompletableFuture<Page> page() {
            return read.page;
        }

        @Override
        public void done() {
            if (done) {
                return;
            }
            done = true;
            if (holding) {
                if (--read.users == 0 && read.state == ReadState.DONE) {
                    free(read);
                }
            } else {
                read.waiting.remove(this);
                waitingStreams--;
                if (read.waiting.isEmpty()) {
                    abandon(read);
                }
            }
        }
    }

    /** A read refused before it was asked for: the stream is closed. */
    private record RefusedRead(CompletableFuture<Page> page) implements Read {
        @Override
        public void done() {
        }
    }

    /** One tenant's history on this loop. */
    private static final class TenantHistory {
        final String tenant;
        final SnapshotCache cache;
        /** Streams waiting for the read that fills the cache. */
        final List<CompletableFuture<CachedSnapshot>> waiting = new ArrayList<>();
        /** Of those, the ones counted as waiting for the budget (until the fill is issued). */
        int waitingForFill;
        /** The budget's grant of the read that fills the cache, while the cache is FILLING. */
        HistoryBudget.Grant fillGrant;
        boolean fillIssued;
        /** The newest shared read of each history asked for (the snapshot, or the page after an id). */
        final Map<Long, SharedRead> reads = new HashMap<>(2);
        /** What the tenant's last snapshot read held (heap bytes), for the budget; 0 before the first. */
        long snapshotBytes;
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

        long snapshotEstimate() {
            return snapshotBytes > 0 ? snapshotBytes : SNAPSHOT_ESTIMATE_BYTES;
        }
    }

    private final EventLoop loop;
    private final EventLog log;
    private final ByteBufAllocator alloc;
    private final SseSettings settings;
    private final HistoryBudget budget;
    private final int pageEvents;
    private final long pageDataBytes;
    private final int maxWaitingStreams;
    private final HistoryTurns turns;
    /** Streams waiting for a store read to be issued (for room in the budget, or behind a running read). */
    private int waitingStreams;
    /** The bytes the snapshot caches of this loop hold together, against their limit. */
    private final SnapshotCache.Budget cacheBudget;
    private final long lingerNanos;
    /** The id of the last event the loop delivered: whether a replay read can still be shared depends on it. */
    private long lastDeliveredId;
    private final Map<String, TenantHistory> tenants = new HashMap<>();
    /** Set by {@link #closeAll}: no more caching, and tenants go as soon as their streams do. */
    private boolean closing;

    LoopHistory(EventLoop loop, EventLog log, ByteBufAllocator alloc, SseSettings settings, HistoryBudget budget) {
        this(loop, log, alloc, settings, budget, PAGE_EVENTS, PAGE_DATA_BYTES, MAX_WAITING_STREAMS);
    }

    /** With replay pages and a wait queue of other limits (tests). */
    LoopHistory(EventLoop loop, EventLog log, ByteBufAllocator alloc, SseSettings settings, HistoryBudget budget,
                int pageEvents, long pageDataBytes, int maxWaitingStreams) {
        this.loop = loop;
        this.log = log;
        this.alloc = alloc;
        this.settings = settings;
        this.budget = budget;
        this.pageEvents = pageEvents;
        this.pageDataBytes = pageDataBytes;
        this.maxWaitingStreams = maxWaitingStreams;
        this.turns = new HistoryTurns(loop);
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
            case FILLING:
                if (!history.fillIssued) {
                    // The fill waits for the budget (or will): so does the stream.
                    if (waitingStreams >= maxWaitingStreams) {
                        return CompletableFuture.failedFuture(new Refused());
                    }
                    waitingStreams++;
                    history.waitingForFill++;
                }
                CompletableFuture<CachedSnapshot> snapshot = new CompletableFuture<>();
                history.waiting.add(snapshot);
                if (cache.state() == SnapshotCache.State.EMPTY) {
                    fill(history);
                }
                return snapshot;
            default:
                return null;
        }
    }

    private void fill(TenantHistory history) {
        // Recording starts before the read is issued (here, even before it gets room in the budget): the read sees
        // every event delivered so far.
        history.cache.startFilling();
        // The read keeps events only within the cache's limits, so it holds no more than that, whatever the tenant.
        long most = HistoryBudget.heapBytes(settings.snapshotCacheNames(), settings.snapshotCacheBytes());
        long estimate = history.snapshotBytes > 0 ? Math.min(history.snapshotBytes, most) : most;
        history.fillGrant = budget.request(estimate, loop, grant -> issueFill(history, grant));
    }

    private void issueFill(TenantHistory history, HistoryBudget.Grant grant) {
        if (history.released || history.fillIssued) {
            grant.release();
            return;
        }
        waitingStreams -= history.waitingForFill;
        history.waitingForFill = 0;
        if (history.cache.state() != SnapshotCache.State.FILLING) {
            // The deliveries recorded while waiting took the cache past its limits: no fill, the streams share a
            // read of the store instead.
            grant.release();
            history.fillGrant = null;
            List<CompletableFuture<CachedSnapshot>> waiting = List.copyOf(history.waiting);
            history.waiting.clear();
            waiting.forEach(stream -> stream.complete(null));
            return;
        }
        history.fillGrant = grant;
        history.fillIssued = true;
        log.latest(history.tenant, settings.snapshotCacheNames(), settings.snapshotCacheBytes())
                .whenCompleteAsync((latest, failure) -> {
                    // The read's events are garbage once merged into the cache (or once the cache gave up on them).
                    try {
                        filled(history, latest, failure);
                    } finally {
                        grant.release();
                    }
                }, loop);
    }

    private void filled(TenantHistory history, EventLog.Latest latest, Throwable failure) {
        if (history.released) {
            return;
        }
        history.fillGrant = null;
        history.fillIssued = false;
        List<CompletableFuture<CachedSnapshot>> waiting = List.copyOf(history.waiting);
        history.waiting.clear();
        if (failure != null) {
            // The streams count it, and the operator log reports them together: one line per tenant would flood it.
            LOG.log(Level.DEBUG, "reading the snapshot of a tenant failed; closing the streams waiting for it", failure);
            history.cache.clear();
            waiting.forEach(stream -> stream.completeExceptionally(failure));
            return;
        }
        // What a whole snapshot read of the tenant holds: room to ask for if it cannot be cached.
        history.snapshotBytes = HistoryBudget.heapBytes(latest.names(), latest.bytes());
        if (latest.complete()) {
            history.cache.fill(latest.events(), alloc);
        } else {
            // Past the cache's limits (the read kept nothing): no cache for the tenant while it has streams here.
            history.cache.release();
        }
        for (CompletableFuture<CachedSnapshot> stream : waiting) {
            if (history.cache.state() == SnapshotCache.State.READY && !closing) {
                stream.complete(new CachedSnapshot(history.cache.snapshot(alloc), history.cache.lastId()));
            } else {
                // Over the cache's limits: the streams share a read of the store (see latest).
                stream.complete(null);
            }
        }
    }

    /** Snapshot reads are shared like replay reads (see {@link #after}); a cache would have served this stream. */
    @Override
    public Read latest(String tenant, Runnable join) {
        return share(tenant, SNAPSHOT, join);
    }

    /**
     * Streams of the tenant asking for the same history — after a restart or a network blip, thousands resume from
     * the same id, or read the same snapshot too large to cache — share one store read: the streams that wait for it
     * when it is issued, which join their tenant just before, and those arriving while the loop has delivered
     * nothing since it was issued (while some stream still holds it). Every event delivered before the issue is in
     * the read (the store makes events readable before it hands them to the feed), and every later one is queued for
     * each of them, as each joined before it or before any later delivery. A stream arriving after a delivery waits
     * for the next read of the same history if that read still runs, with every other stream arriving meanwhile, or
     * asks for a new one if it completed. A read takes its room in the budget before it is issued, and gives it back
     * when the last stream holding it is done with it.
     */
    @Override
    public Read after(String tenant, long afterId, Runnable join) {
        return share(tenant, Math.max(afterId, 0), join);
    }

    private Read share(String tenant, long key, Runnable join) {
        TenantHistory history = tenants.get(tenant);
        if (history == null) {
            // Streams open their tenant first: only a stream of a loop being torn down gets here.
            return new RefusedRead(CompletableFuture.failedFuture(new IllegalStateException("no such tenant")));
        }
        SharedRead newest = history.reads.get(key);
        if (newest != null) {
            switch (newest.state) {
                case QUEUED, REQUESTED -> {
                    return await(newest, join);
                }
                case ISSUED, DONE -> {
                    if (newest.shareable()) {
                        join.run();
                        Share share = new Share(newest, join);
                        share.holding = true;
                        newest.users++;
                        return share;
                    }
                    if (newest.state == ReadState.ISSUED) {
                        SharedRead next = new SharedRead(history, key, ReadState.QUEUED);
                        Read share = await(next, join);
                        if (share instanceof Share) {
                            newest.next = next;
                            history.reads.put(key, next);
                        }
                        return share;
                    }
                }
                default -> {
                    // failed or abandoned: a new read
                }
            }
        }
        SharedRead read = new SharedRead(history, key, ReadState.REQUESTED);
        Read share = await(read, join);
        if (share instanceof Share) {
            history.reads.put(key, read);
            request(read);
        }
        return share;
    }

    /** The stream waits for {@code read} to be issued, unless too many wait already. */
    private Read await(SharedRead read, Runnable join) {
        if (waitingStreams >= maxWaitingStreams) {
            return new RefusedRead(CompletableFuture.failedFuture(new Refused()));
        }
        waitingStreams++;
        Share share = new Share(read, join);
        read.waiting.add(share);
        return share;
    }

    private void request(SharedRead read) {
        read.state = ReadState.REQUESTED;
        long estimate = read.key == SNAPSHOT ? read.tenant.snapshotEstimate()
                : pageDataBytes + (long) pageEvents * HistoryBudget.EVENT_OVERHEAD;
        read.grant = budget.request(estimate, loop, grant -> issue(read, grant));
    }

    /** Room granted: the waiting streams join their tenant, then the read is issued for them. */
    private void issue(SharedRead read, HistoryBudget.Grant grant) {
        read.grant = grant;
        if (read.state != ReadState.REQUESTED || read.tenant.released) {
            grant.release();
            return;
        }
        read.state = ReadState.ISSUED;
        read.issuedAtDeliveredId = lastDeliveredId;
        for (Share share : read.waiting) {
            share.holding = true;
            share.join.run();
        }
        read.users = read.waiting.size();
        waitingStreams -= read.users;
        read.waiting.clear();
        String tenant = read.tenant.tenant;
        CompletableFuture<List<Event>> events = read.key == SNAPSHOT ? log.latest(tenant)
                : log.after(tenant, read.key, pageEvents, pageDataBytes);
        events.whenCompleteAsync((page, failure) -> completed(read, page, failure), loop);
    }

    private void completed(SharedRead read, List<Event> events, Throwable failure) {
        if (failure != null) {
            read.state = ReadState.FAILED;
            read.grant.release();
            read.tenant.reads.remove(read.key, read);
            read.page.completeExceptionally(failure);
        } else {
            long bytes = HistoryBudget.heapBytes(events);
            if (read.key == SNAPSHOT) {
                read.tenant.snapshotBytes = bytes;
            }
            read.grant.resize(bytes);
            read.state = ReadState.DONE;
            boolean more = read.key != SNAPSHOT
                    && (events.size() >= pageEvents || dataBytes(events) >= pageDataBytes);
            // The streams continue in tasks of their own (they listen asynchronously).
            read.page.complete(new Page(events, more));
            if (read.users == 0) {
                free(read);
            }
        }
        SharedRead next = read.next;
        read.next = null;
        if (next != null && next.state == ReadState.QUEUED && !read.tenant.released) {
            request(next);
        }
    }

    /** The last stream is done with a completed read: its bytes go back to the budget. */
    private static void free(SharedRead read) {
        read.grant.release();
        read.tenant.reads.remove(read.key, read);
    }

    /** Every stream waiting for a read that was not issued yet left. */
    private static void abandon(SharedRead read) {
        read.state = ReadState.ABANDONED;
        if (read.grant != null) {
            read.grant.release();
        }
        read.tenant.reads.remove(read.key, read);
    }

    @Override
    public void takeTurn(Runnable slice) {
        turns.take(slice);
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

    private void release(TenantHistory history) {
        history.released = true;
        history.cache.release();
        if (history.fillGrant != null) {
            history.fillGrant.release();
            history.fillGrant = null;
        }
        waitingStreams -= history.waitingForFill;
        history.waitingForFill = 0;
        for (SharedRead read : history.reads.values()) {
            if (read.grant != null) {
                read.grant.release();
            }
            waitingStreams -= read.waiting.size();
            read.waiting.clear();
            read.page.completeExceptionally(new IllegalStateException("the loop's history is closed"));
        }
        history.reads.clear();
        // Streams still waiting for a fill read the store themselves (they are closing anyway).
        history.waiting.forEach(stream -> stream.complete(null));
        history.waiting.clear();
    }

    /** After the loop terminated (no race with it): whatever tenants are left. */
    void releaseAfterTermination() {
        tenants.values().forEach(this::release);
        tenants.clear();
    }
}
