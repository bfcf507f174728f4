package dev.broker.server.auth;

import dev.broker.storage.User;
import dev.broker.storage.UserStore;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every user, in memory, so that authenticating a request (is the user known? revoked?) never waits for the disk
 * and never blocks an event loop. Loaded once at start-up; updated after each durable change made through this
 * server.
 */
public final class UserDirectory {

    private final ConcurrentHashMap<String, User> byUsername = new ConcurrentHashMap<>();

    /** Loads every stored user; blocks, so call it at start-up only. */
    public static UserDirectory load(UserStore store) {
        UserDirectory directory = new UserDirectory();
        for (User user : store.list().join()) {
            directory.put(user);
        }
        return directory;
    }

    /** The user, or null. */
    public User get(String username) {
        return byUsername.get(username);
    }

    public boolean contains(String username) {
        return byUsername.containsKey(username);
    }

    /** Records a user after its creation or change was stored. */
    public void put(User user) {
        byUsername.put(user.username(), user);
    }
}
