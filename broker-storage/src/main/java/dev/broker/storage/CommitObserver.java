package dev.broker.storage;

/**
 * Told of every durable write of the event log that a backend commits in a batch: how many appends it carried and how
 * long the write and its sync took. For metrics; knows nothing of any metrics library. Called on the backend's
 * writer thread, once per batch: it must be quick and must not throw.
 */
@FunctionalInterface
public interface CommitObserver {

    /** Observes nothing. */
    CommitObserver NONE = (appends, nanos) -> {
    };

    /**
     * @param appends the appends the batch made durable (at least 1)
     * @param nanos   how long writing and syncing the batch took
     */
    void committed(int appends, long nanos);
}
