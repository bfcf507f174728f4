package dev.broker.storage.jetstream;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The listeners of one feed. {@link #publish} is called from one NATS dispatcher thread only, so listeners see items
 * in the order the stream holds them. Subscriptions are rare and publications constant, hence copy-on-write.
 */
final class Listeners<T> {

    private static final System.Logger LOG = System.getLogger(Listeners.class.getName());

    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final String what;

    Listeners(String what) {
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

    AutoCloseable subscribe(Consumer<T> listener) {
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
