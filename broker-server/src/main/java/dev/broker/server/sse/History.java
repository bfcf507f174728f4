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

    /** The events of a store read, in id order, and whether more may follow them (a replay page cut by its limits). */
    record Page(List<Event> events, boolean more) {
    }

    /**
     * A stream's share of a store read, which may be shared with other streams of its tenant on the loop and which
     * may have to wait for room in the server's {@link HistoryBudget}.
     */
    interface Read {

        /**
         * Completes with the events, or exceptionally when the store failed or the stream was {@link Refused}: the
         * stream is then closed.
         */
        CompletableFuture<Page> page();

        /** The stream is done with the events (written, or closed while waiting or writing). Idempotent. */
        void done();
    }

    /** Too many streams wait for room in the history budget: this one is closed, and resumes later. */
    final class Refused extends RuntimeException {
        Refused() {
            super("too many SSE streams wait for history", null, false, false);
        }
    }

    /** A stream of {@code tenant} opens on this loop (its cache is in use). */
    void opened(String tenant);

    /** A stream of {@code tenant} closed on this loop. */
    void closed(String tenant);

    /**
     * The tenant's snapshot from its cache, ready now or once the one read that fills the cache completes (the
     * caller then owns the frames). Completes with null, or returns null, when the tenant is not cached: the
     * stream then reads the store with {@link #latest}.
     */
    CompletableFuture<CachedSnapshot> cachedSnapshot(String tenant);

    /**
     * The latest event of every name of the tenant, read from the store. {@code join} runs on the loop just before
     * the read the stream gets is issued, or at once when the stream shares one issued with nothing delivered since
     * (the hand-off rule's step 3: the stream joins before its read).
     */
    Read latest(String tenant, Runnable join);

    /** One page of the tenant's events after {@code afterId}, in id order, from the store; {@code join} as above. */
    Read after(String tenant, long afterId, Runnable join);

    /** Runs one slice of a stream's history writing in its turn with the loop's other streams (see HistoryTurns). */
    void takeTurn(Runnable slice);

    /** The largest id the store has issued (any tenant): a resume from above it falls back to the snapshot. */
    CompletableFuture<Long> lastIssuedId();
}
