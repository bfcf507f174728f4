package dev.broker.storage;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A storage backend: users, the event log and the live feed. The server talks only to these interfaces, so that a
 * distributed backend can stand in for the embedded RocksDB one.
 */
public interface Storage extends AutoCloseable {

    UserStore users();

    EventLog events();

    EventFeed feed();

    /** True while the store accepts reads and writes (until {@link #close()}). */
    boolean isOpen();

    /**
     * Whether writes can succeed now. An open store can be unwritable for a while (disk full, no file descriptors
     * left): it then refuses writes with {@link StorageUnavailableException} and recovers by itself once the cause
     * is gone.
     */
    StorageHealth health();

    /**
     * Writes a consistent copy of the whole store (users and events, as of one moment) into {@code target}, a
     * directory that must not exist yet, while the store keeps serving; a server started on a copy of it has every
     * write acknowledged before the call. The copy appears under {@code target} only once complete: a failed backup
     * leaves nothing there. Completes with {@code target}.
     *
     * <p>This default refuses with {@link UnsupportedOperationException}: a store kept by another system (a
     * replicated one) is backed up with that system's own tools.
     */
    default CompletableFuture<Path> backup(Path target) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                "this storage backend has no online backup; back up the system that holds it with its own tools"));
    }

    /**
     * Tells {@code observer} of every batch of appends made durable from now on (replacing any observer set before).
     * A backend that does not commit in batches, or does not measure them, ignores it.
     */
    default void observeCommits(CommitObserver observer) {
    }

    /**
     * Stops accepting new work, completes every write already accepted (each is either durable and acknowledged or
     * failed), and releases every resource. Idempotent.
     */
    @Override
    void close();
}
