package dev.broker.server.sse;

import dev.broker.storage.Event;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where a stream's history comes from: what a stream asks of its loop's history part, on that loop. Futures complete
 * on the loop.
 */
interface History {

    /** A snapshot from a cache: the frames of the latest event of every name, ascending, and their largest id. */
    record CachedSnapshot(ByteBuf frames, long lastId) {
    }

    /** A stream of {@code tenant} opens on this loop (its cache is in use). */
    void opened(String tenant);

    /** A stream of {@code tenant} closed on this loop. */
    void closed(String tenant);

    /**
     * The tenant's snapshot from its cache, ready now or once the one read that fills the cache completes (the
     * caller then owns the frames). Completes with null, or returns null, when the tenant is not cached: the
     * stream then reads the store itself with {@link #latest}.
     */
    CompletableFuture<CachedSnapshot> cachedSnapshot(String tenant);

    /** The latest event of every name of the tenant, read from the store. */
    CompletableFuture<List<Event>> latest(String tenant);

    /** Up to {@code limit} events of the tenant after {@code afterId}, in id order, read from the store. */
    CompletableFuture<List<Event>> after(String tenant, long afterId, int limit);

    /** The largest id the store has issued (any tenant): a resume from above it falls back to the snapshot. */
    CompletableFuture<Long> lastIssuedId();
}
