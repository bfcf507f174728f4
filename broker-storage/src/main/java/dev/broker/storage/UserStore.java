package dev.broker.storage;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Durable users. Every method returns at once; the work runs on the store's own threads, and the returned future
 * completes there (callers hop back to their own thread). A write's future completes only once it is durable.
 * Failures complete the future exceptionally with a {@link StorageException}.
 */
public interface UserStore {

    /** Stores a new user. Completes with {@code false}, storing nothing, when the username is already taken. */
    CompletableFuture<Boolean> create(User user);

    /** The user with this username, if any. */
    CompletableFuture<Optional<User>> find(String username);

    /** Every user, ordered by username. */
    CompletableFuture<List<User>> list();

    /**
     * Up to {@code limit} users whose username comes after {@code afterUsername} (exclusive; {@code null} or empty
     * for the first page), ordered by username in Unicode code point order. A page shorter than {@code limit} is
     * the last.
     */
    CompletableFuture<List<User>> list(String afterUsername, int limit);

    /** The change feed of users: creations and revocation changes, as they become durable. */
    UserFeed changes();

    /**
     * Sets the user's revoked flag (idempotent). Completes with the updated user, or empty when the username is
     * unknown.
     */
    CompletableFuture<Optional<User>> setRevoked(String username, boolean revoked);
}
