package dev.broker.storage;

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
     * Completes with the stored event once it is durable (fsync'd) and has been handed to the feed's listeners.
     * Concurrent appends are group-committed: one write and one sync serve many of them.
     *
     * @param data compact JSON, UTF-8
     */
    CompletableFuture<Event> append(String tenant, String name, byte[] data);

    /** The latest event of every name in the tenant, in ascending id order. */
    CompletableFuture<List<Event>> latest(String tenant);

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
}
