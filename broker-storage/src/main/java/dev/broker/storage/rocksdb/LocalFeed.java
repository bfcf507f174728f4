package dev.broker.storage.rocksdb;

import dev.broker.storage.Event;
import dev.broker.storage.EventFeed;
import dev.broker.storage.FeedListeners;
import dev.broker.storage.User;
import dev.broker.storage.UserFeed;
import java.util.concurrent.CompletableFuture;

/**
 * The in-process feeds: {@link FeedListeners#publish} is called by the writer thread for events and by the
 * user-mutation thread for users, in the order they were stored.
 */
final class LocalFeed {

    private static final CompletableFuture<Void> CAUGHT_UP = CompletableFuture.completedFuture(null);

    private LocalFeed() {
    }

    /** The feed of events, in id order. */
    static final class Events extends FeedListeners<Event> implements EventFeed {
        Events() {
            super("event");
        }

        /**
         * Always caught up: the writer hands each batch to the feed before it answers the batch's appends. One shared
         * completed future, since a new SSE stream asks on every open (callers copy before adding a timeout).
         */
        @Override
        public CompletableFuture<Void> caughtUp() {
            return CAUGHT_UP;
        }
    }

    /** The feed of user changes, in the order they were stored. */
    static final class Users extends FeedListeners<User> implements UserFeed {
        Users() {
            super("user change");
        }
    }
}
