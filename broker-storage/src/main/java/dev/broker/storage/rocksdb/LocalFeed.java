package dev.broker.storage.rocksdb;

import dev.broker.storage.Event;
import dev.broker.storage.EventFeed;
import dev.broker.storage.User;
import dev.broker.storage.UserFeed;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * An in-process feed. {@link #publish} is called by one thread only (the writer for events, the user-mutation
 * thread for users), so listeners see items in the order they were stored without any locking here. Subscriptions
 * are rare and publications constant, hence copy-on-write.
 */
class LocalFeed<T> {

    private static final System.Logger LOG = System.getLogger(LocalFeed.class.getName());

    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final String what;

    LocalFeed(String what) {
        this.what = what;
    }

    /** The feed of events, in id order. */
    static final class Events extends LocalFeed<Event> implements EventFeed {
        Events() {
            super("event");
        }

        /** Always caught up: the writer hands each batch to the feed before it answers the batch's appends. */
        @Override
        public CompletableFuture<Void> caughtUp() {
            return CompletableFuture.completedFuture(null);
        }
    }

    /** The feed of user changes, in the order they were stored. */
    static final class Users extends LocalFeed<User> implements UserFeed {
        Users() {
            super("user change");
        }
    }

    /**
     * One registration. Removed by identity, so subscribing the same listener twice and closing one handle ends
     * exactly one of the two.
     */
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

    public AutoCloseable subscribe(Consumer<T> listener) {
        Subscription subscription = new Subscription(Objects.requireNonNull(listener, "listener"));
        subscriptions.add(subscription);
        return subscription;
    }

    /** Hands the item to every listener; a listener that throws is logged and does not affect the others. */
    void publish(T item) {
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
