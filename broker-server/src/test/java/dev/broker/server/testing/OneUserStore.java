package dev.broker.server.testing;

import dev.broker.storage.User;
import dev.broker.storage.UserFeed;
import dev.broker.storage.UserStore;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A user store of one user, as the server's user directory loads it at start-up; it refuses changes. */
public record OneUserStore(User user) implements UserStore {

    @Override
    public CompletableFuture<Boolean> create(User other) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Optional<User>> find(String username) {
        return CompletableFuture.completedFuture(Optional.of(user).filter(u -> u.username().equals(username)));
    }

    @Override
    public CompletableFuture<List<User>> list() {
        return CompletableFuture.completedFuture(List.of(user));
    }

    @Override
    public CompletableFuture<List<User>> list(String afterUsername, int limit) {
        boolean after = afterUsername == null || user.username().compareTo(afterUsername) > 0;
        return CompletableFuture.completedFuture(after && limit > 0 ? List.of(user) : List.of());
    }

    @Override
    public UserFeed changes() {
        return listener -> () -> { };
    }

    @Override
    public CompletableFuture<Optional<User>> setRevoked(String username, boolean revoked) {
        throw new UnsupportedOperationException();
    }
}
