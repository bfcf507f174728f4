package dev.broker.storage;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The listeners of one feed, for a backend's {@link EventFeed} or {@link UserFeed}. A backend calls {@link #publish}
 * from one thread only (its writer, or its one feed consumer), so listeners see items in the order they were stored
 * without any locking here. Subscriptions are rare and publications constant, hence copy-on-write.
 */
public class FeedListeners<T> {

    private static final System.Logger LOG = System.getLogger(FeedListeners.class.getName());

    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final String what;

    /** @param what the feed's items, for the log line of a listener that fails ("event", "user change") */
    public FeedListeners(String what) {
        this.what = what;
    }

    /** Removed by identity, so subscribing one listener twice and closing one handle ends exactly one of the two. */
    private final class Subscription implements AutoCloseable {
        final Consumer<T> listener;

        Subscription(Consumer<T> listener) {
            this.listener = listener;
        }

        @Override
        public void close() {
            subscriptions.remove(this);
        }
    }

    /** Registers a listener; closing the returned handle unregisters it. */
    public AutoCloseable subscribe(Consumer<T> listener) {
        Subscription subscription = new Subscription(Objects.requireNonNull(listener, "listener"));
        subscriptions.add(subscription);
        return subscription;
    }

    /** Hands the item to every listener; a listener that throws is logged and does not affect the others. */
    public void publish(T item) {
        for (Subscription subscription : subscriptions) {
            try {
                subscription.listener.accept(item);
            } catch (VirtualMachineError fatal) {
                throw fatal;
            } catch (Throwable failure) {
                // No names or data: tenants, event names and usernames are user-supplied.
                LOG.log(Level.WARNING, what + " feed listener failed", failure);
            }
        }
    }
}
