package dev.broker.storage;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The per-tenant event log with its latest-event-per-name view. Every method returns at once; the returned future
 * completes on the store's own threads. Failures complete it exceptionally with a {@link StorageException}.
 *
 * <p>Ordering guarantee the SSE hand-off relies on: events become visible to readers, and are handed to the
 * {@link EventFeed}, in id order, and only once durable. So whatever a read returns, every event with a smaller id
 * is already durable and has been, or will next be, handed to the feed.
 */
public interface EventLog {

    /**
     * Appends an event to the tenant's log and makes it the tenant's latest event of that name, atomically.
     * Completes with the stored event once it is durable (embedded: fsync'd; replicated: stored on a quorum of
     * replicas) and has been handed to the feed's listeners. Concurrent appends are group-committed: one write and
     * one sync serve many of them.
     *
     * @param data compact JSON, UTF-8
     */
    CompletableFuture<Event> append(String tenant, String name, byte[] data);

    /** The latest event of every name in the tenant, in ascending id order. */
    CompletableFuture<List<Event>> latest(String tenant);

    /**
     * What a bounded {@link #latest(String, int, long)} found: the events, or null when the tenant has more names
     * or bytes than the bounds; either way how many names it has and how many bytes their names and data take.
     */
    record Latest(List<Event> events, int names, long bytes) {

        /** Whether {@link #events} holds the whole snapshot. */
        public boolean complete() {
            return events != null;
        }
    }

    /**
     * The tenant's latest events as {@link #latest(String)} reads them, if it has at most {@code maxNames} names
     * and {@code maxBytes} bytes of names and data; past either bound the read keeps nothing and only counts, so
     * that a caller learns what the whole snapshot would hold without holding it. This default reads the whole
     * snapshot and then drops it; a store can do better.
     */
    default CompletableFuture<Latest> latest(String tenant, int maxNames, long maxBytes) {
        return latest(tenant).thenApply(events -> {
            long bytes = 0;
            for (Event event : events) {
                bytes += event.name().getBytes(StandardCharsets.UTF_8).length + event.data().length;
            }
            boolean within = events.size() <= maxNames && bytes <= maxBytes;
            return new Latest(within ? events : null, events.size(), bytes);
        });
    }

    /** Up to {@code limit} events of the tenant with an id greater than {@code afterId}, in ascending id order. */
    default CompletableFuture<List<Event>> after(String tenant, long afterId, int limit) {
        return after(tenant, afterId, limit, Long.MAX_VALUE);
    }

    /**
     * Up to {@code limit} events of the tenant with an id greater than {@code afterId}, in ascending id order, and
     * no more once their data adds up to {@code maxDataBytes} or more: the event that reaches the bound is the
     * last, so a page holds at least one event (if there is one) and at most {@code maxDataBytes} plus one event's
     * data. A page with fewer than {@code limit} events and less data than the bound is the end of the log.
     */
    CompletableFuture<List<Event>> after(String tenant, long afterId, int limit, long maxDataBytes);

    /**
     * The largest id the log has issued so far, of any tenant (0 while empty): a {@code Last-Event-ID} above it
     * cannot be resumed from (a client that outlived a restore from backup, or a made-up id).
     */
    CompletableFuture<Long> lastIssuedId();

    /**
     * Like {@link #append(String, String, byte[])}, but the event keeps {@code timestamp} (Unix milliseconds)
     * instead of the time it is stored: for imports, which should keep when the events happened. Only for a log
     * whose timestamps stay in id order that way (an import into an empty store, in the original order). This
     * default cannot keep it and stores the event with the current time; the returned event says which.
     */
    default CompletableFuture<Event> appendAt(String tenant, String name, byte[] data, long timestamp) {
        return append(tenant, name, data);
    }

    /**
     * Up to {@code limit} events of <em>all</em> tenants with an id greater than {@code afterId}, in ascending id
     * order, bounded by {@code maxDataBytes} as {@link #after(String, long, int, long)} is: for exports. This default
     * refuses with {@link UnsupportedOperationException}.
     */
    default CompletableFuture<List<Event>> scan(long afterId, int limit, long maxDataBytes) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                "this storage backend cannot list the events of all tenants"));
    }

    /**
     * The smallest id from which the tenant's history is complete: retention removed events of the tenant below
     * it (keeping the latest event of every name), none at or above it. A replay after {@code Last-Event-ID} L has
     * no gap exactly when {@code L + 1 >= retainedFrom}; otherwise the client needs the snapshot. This default, for
     * a log that never removes history, is 0. {@link #after} fails with {@link HistoryTrimmedException} when asked
     * for a range retention has meanwhile thinned out.
     */
    default CompletableFuture<Long> retainedFrom(String tenant) {
        return CompletableFuture.completedFuture(0L);
    }
}
