package dev.broker.storage.jetstream;

import dev.broker.storage.Event;
import dev.broker.storage.EventFeed;
import dev.broker.storage.FeedListeners;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageUnavailableException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The live feed of every tenant's events, fed by one ordered consumer of the whole events stream (see
 * {@link JetStreamStorage}): events arrive on one dispatcher thread in stream order, so each listener sees them in
 * id order, each once. The consumer starts right after the stream's last sequence at open; after a gap or an outage
 * the client recreates it from the last sequence it delivered, so the feed resumes without gap or duplicate.
 *
 * <p>It also tracks the last sequence it delivered, for {@link #caughtUp()} and for appends that wait until the
 * feed has their event.
 */
final class JetStreamFeed implements EventFeed {

    private static final System.Logger LOG = System.getLogger(JetStreamFeed.class.getName());
    /** How long {@link #caughtUp()} waits for the feed to deliver up to the sequence it read. */
    static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(10);

    private final FeedListeners<Event> listeners = new FeedListeners<>("event");
    private final Supplier<CompletableFuture<Long>> lastSequence;

    private final Object lock = new Object();
    /** The last sequence handed to the listeners (or the stream's last sequence when the feed started). */
    private volatile long delivered;
    // guarded by lock: futures waiting for delivered to reach their sequence, the smallest first
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>();
    private CompletableFuture<Long> lookupInFlight; // guarded by lock
    private CompletableFuture<Long> nextLookup; // guarded by lock; waits for lookupInFlight to end
    private volatile boolean closed;

    private record Waiter(long sequence, CompletableFuture<Void> future) implements Comparable<Waiter> {
        @Override
        public int compareTo(Waiter other) {
            return Long.compare(sequence, other.sequence);
        }
    }

    /**
     * @param startSequence the stream's last sequence when the feed's consumer was created: the feed delivers what
     *                      comes after it
     * @param lastSequence  asks the stream for its last sequence
     */
    JetStreamFeed(long startSequence, Supplier<CompletableFuture<Long>> lastSequence) {
        this.delivered = startSequence;
        this.lastSequence = lastSequence;
    }

    @Override
    public AutoCloseable subscribe(Consumer<Event> listener) {
        return listeners.subscribe(listener);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads the stream's last sequence, then waits until the feed has delivered it. At most one such read is in
     * flight: a caller arriving while one is in flight waits for the next, since the one in flight may have been
     * answered before the caller's insert was acknowledged. Fails with a {@link StorageUnavailableException} when
     * the stream does not answer or the feed lags more than {@link #CATCH_UP_TIMEOUT} behind.
     */
    @Override
    public CompletableFuture<Void> caughtUp() {
        if (closed) {
            return CompletableFuture.failedFuture(closed());
        }
        return lookupAfterNow().thenCompose(this::awaitDelivered)
                .orTimeout(CATCH_UP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .exceptionallyCompose(failure -> CompletableFuture.failedFuture(asStorageException(failure)));
    }

    /** A lookup of the last sequence that starts after this call. */
    private CompletableFuture<Long> lookupAfterNow() {
        synchronized (lock) {
            if (lookupInFlight == null) {
                lookupInFlight = startLookup();
                return lookupInFlight;
            }
            if (nextLookup == null) {
                nextLookup = new CompletableFuture<>();
            }
            return nextLookup;
        }
    }

    /** Called with lock held. */
    private CompletableFuture<Long> startLookup() {
        CompletableFuture<Long> lookup;
        try {
            lookup = lastSequence.get();
        } catch (RuntimeException e) {
            lookup = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Long> started = lookup;
        // whenCompleteAsync: the follow-up lookup must not run under the lock of a caller that completed it
        lookup.whenCompleteAsync((sequence, failure) -> lookupEnded(started));
        return lookup;
    }

    private void lookupEnded(CompletableFuture<Long> ended) {
        CompletableFuture<Long> waiting;
        synchronized (lock) {
            if (lookupInFlight != ended) {
                return;
            }
            waiting = nextLookup;
            nextLookup = null;
            lookupInFlight = waiting == null ? null : startLookup();
            if (waiting == null) {
                return;
            }
            CompletableFuture<Long> started = lookupInFlight;
            started.whenComplete((sequence, failure) -> {
                if (failure != null) {
                    waiting.completeExceptionally(failure);
                } else {
                    waiting.complete(sequence);
                }
            });
        }
    }

    /** Completes once the feed has delivered {@code sequence} (at once if it has). */
    CompletableFuture<Void> awaitDelivered(long sequence) {
        if (delivered >= sequence) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        synchronized (lock) {
            if (delivered < sequence) {
                waiters.add(new Waiter(sequence, future));
                return future;
            }
        }
        future.complete(null);
        return future;
    }

    /** The last sequence handed to the listeners. */
    long delivered() {
        return delivered;
    }

    /** Hands one event to the listeners; called on the consumer's one dispatcher thread, in stream order. */
    void deliver(Event event) {
        listeners.publish(event);
        releaseUpTo(event.id());
    }

    /** Records that the stream's sequence reached {@code sequence} without an event of Broker's (skipped). */
    void skip(long sequence) {
        releaseUpTo(sequence);
    }

    private void releaseUpTo(long sequence) {
        List<Waiter> released = List.of();
        synchronized (lock) {
            delivered = sequence;
            while (!waiters.isEmpty() && waiters.peek().sequence() <= sequence) {
                if (released.isEmpty()) {
                    released = new ArrayList<>();
                }
                released.add(waiters.poll());
            }
        }
        // Completed outside the lock: their continuations run here, and must be quick (they post to event loops).
        released.forEach(waiter -> waiter.future().complete(null));
    }

    /** Fails every waiter: the store is closing. */
    void close() {
        List<Waiter> pending;
        closed = true;
        synchronized (lock) {
            pending = new ArrayList<>(waiters);
            waiters.clear();
        }
        pending.forEach(waiter -> waiter.future().completeExceptionally(closed()));
    }

    private static StorageException closed() {
        return new StorageException("event feed: storage is closed");
    }

    static StorageException asStorageException(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof StorageException storageException) {
            return storageException;
        }
        if (cause instanceof TimeoutException) {
            return new StorageUnavailableException("event feed: not caught up with the events stream within "
                    + CATCH_UP_TIMEOUT.toSeconds() + " s");
        }
        LOG.log(Level.DEBUG, "event feed: catch-up failed", cause);
        return new StorageUnavailableException("event feed: cannot read the events stream's last sequence: "
                + cause.getClass().getSimpleName(), cause);
    }
}
