package dev.broker.storage;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The live feed of new events, of all tenants. A listener sees every event appended after it subscribed, in id
 * order, each exactly once, after the event is durable. Listeners run on a storage thread: they must be quick and
 * must not block (hand the event to your own threads).
 */
public interface EventFeed {

    /** Registers a listener; closing the returned handle unregisters it. */
    AutoCloseable subscribe(Consumer<Event> listener);

    /**
     * Completes once every event acknowledged (by any server sharing the store) before this call has been handed to
     * this feed's listeners. Lets a new SSE stream on one server include an insert answered by another. Fails with a
     * {@link StorageException} when the store cannot tell (it is unreachable, or closed).
     */
    CompletableFuture<Void> caughtUp();
}
