package dev.broker.storage;

import java.util.function.Consumer;

/**
 * The change feed of users: every user created, revoked or unrevoked after a listener subscribed, as stored, once
 * the change is durable. With a store shared by several servers it carries the changes made through every one of
 * them, so that each can keep its caches and open streams in step. Listeners run on a storage thread: they must be
 * quick and must not block.
 */
public interface UserFeed {

    /** Registers a listener; closing the returned handle unregisters it. */
    AutoCloseable subscribe(Consumer<User> listener);
}
