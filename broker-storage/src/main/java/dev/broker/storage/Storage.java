package dev.broker.storage;

/**
 * A storage backend: users, the event log and the live feed. The server talks only to these interfaces, so that a
 * distributed backend can stand in for the embedded RocksDB one.
 */
public interface Storage extends AutoCloseable {

    UserStore users();

    EventLog events();

    EventFeed feed();

    /** True while the store accepts reads and writes. */
    boolean isOpen();

    /**
     * Stops accepting new work, completes every write already accepted (each is either durable and acknowledged or
     * failed), and releases every resource. Idempotent.
     */
    @Override
    void close();
}
