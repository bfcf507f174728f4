package dev.broker.storage.rocksdb;

import dev.broker.storage.Event;
import dev.broker.storage.EventFeed;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The in-process feed. {@link #publish} is called only by the writer thread, in id order, so listeners see events
 * in id order without any locking here. Subscriptions are rare and publications constant, hence copy-on-write.
 */
final class LocalEventFeed implements EventFeed {

    private static final System.Logger LOG = System.getLogger(LocalEventFeed.class.getName());

    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();

    /**
     * One registration. Removed by identity, so subscribing the same listener twice and closing one handle ends
     * exactly one of the two.
     */
    private final class Subscription implements AutoCloseable {
        final Consumer<Event> listener;

        Subscription(Consumer<Event> listener) {
            this.listener = listener;
        }

        @Override
        public void close() {
            subscriptions.remove(this);
        }
    }

    @Override
    public AutoCloseable subscribe(Consumer<Event> listener) {
        Subscription subscription = new Subscription(Objects.requireNonNull(listener, "listener"));
        subscriptions.add(subscription);
        return subscription;
    }

    /** Hands the event to every listener; a listener that throws is logged and does not affect the others. */
    void publish(Event event) {
        for (Subscription subscription : subscriptions) {
            try {
                subscription.listener.accept(event);
            } catch (VirtualMachineError fatal) {
                throw fatal;
            } catch (Throwable failure) {
                LOG.log(Level.WARNING, "feed listener failed on event " + event.id() + " of tenant " + event.tenant(),
                        failure);
            }
        }
    }
}
