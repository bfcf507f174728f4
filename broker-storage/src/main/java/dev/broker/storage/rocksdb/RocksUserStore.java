package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.User;
import dev.broker.storage.UserFeed;
import dev.broker.storage.UserStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * Users, keyed by username (layout in {@link UserCodec}). Mutations run one at a time on a single thread, so the
 * uniqueness check of {@code create} and the read-modify-write of {@code setRevoked} are atomic without locks; reads
 * run on the reader pool.
 */
final class RocksUserStore implements UserStore {

    private final RecoveringDatabase database;
    private final ReadOptions readOptions;
    private final WriteOptions syncWrite;
    private final StorageExecutor mutations;
    private final StorageExecutor readers;
    private final LocalFeed.Users changes = new LocalFeed.Users();

    RocksUserStore(RecoveringDatabase database, ReadOptions readOptions, WriteOptions syncWrite,
                   StorageExecutor mutations, StorageExecutor readers) {
        this.database = database;
        this.readOptions = readOptions;
        this.syncWrite = syncWrite;
        this.mutations = mutations;
        this.readers = readers;
    }

    @Override
    public CompletableFuture<Boolean> create(User user) {
        Objects.requireNonNull(user, "user");
        return mutations.run("create user", () -> database.write("create user", db -> {
            byte[] key = KeyCodec.userKey(user.username());
            if (db.db().get(db.usersColumn(), readOptions, key) != null) {
                return false;
            }
            db.db().put(db.usersColumn(), syncWrite, key, UserCodec.encode(user));
            changes.publish(user); // on the one mutation thread: the feed follows the order of the writes
            return true;
        }));
    }

    @Override
    public CompletableFuture<Optional<User>> find(String username) {
        Objects.requireNonNull(username, "username");
        return readers.run("find user", () -> database.read("find user", db -> {
            byte[] value = db.db().get(db.usersColumn(), readOptions, KeyCodec.userKey(username));
            return value == null ? Optional.empty() : Optional.of(UserCodec.decode(username, value));
        }));
    }

    /** {@inheritDoc} Ordered by the UTF-8 bytes of the username, which is Unicode code point order. */
    @Override
    public CompletableFuture<List<User>> list() {
        return readers.run("list users", () -> database.read("list users", db -> {
            List<User> users = new ArrayList<>();
            try (RocksIterator iterator = db.db().newIterator(db.usersColumn(), readOptions)) {
                for (iterator.seekToFirst(); iterator.isValid(); iterator.next()) {
                    String username = new String(iterator.key(), UTF_8);
                    users.add(UserCodec.decode(username, iterator.value()));
                }
                iterator.status();
            }
            return users;
        }));
    }

    @Override
    public CompletableFuture<Optional<User>> setRevoked(String username, boolean revoked) {
        Objects.requireNonNull(username, "username");
        return mutations.run("set revoked", () -> database.write("set revoked", db -> {
            byte[] key = KeyCodec.userKey(username);
            byte[] value = db.db().get(db.usersColumn(), readOptions, key);
            if (value == null) {
                return Optional.empty();
            }
            User user = UserCodec.decode(username, value);
            if (user.revoked() == revoked) {
                return Optional.of(user); // already so: no write needed
            }
            User updated = user.withRevoked(revoked);
            db.db().put(db.usersColumn(), syncWrite, key, UserCodec.encode(updated));
            changes.publish(updated);
            return Optional.of(updated);
        }));
    }

    @Override
    public CompletableFuture<List<User>> list(String afterUsername, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        return readers.run("list users", () -> database.read("list users", db -> {
            List<User> users = new ArrayList<>(Math.min(limit, 1024));
            try (RocksIterator iterator = db.db().newIterator(db.usersColumn(), readOptions)) {
                if (afterUsername == null || afterUsername.isEmpty()) {
                    iterator.seekToFirst();
                } else {
                    byte[] after = KeyCodec.userKey(afterUsername);
                    iterator.seek(after);
                    if (iterator.isValid() && Arrays.equals(iterator.key(), after)) {
                        iterator.next();
                    }
                }
                for (; iterator.isValid() && users.size() < limit; iterator.next()) {
                    String username = new String(iterator.key(), UTF_8);
                    users.add(UserCodec.decode(username, iterator.value()));
                }
                iterator.status();
            }
            return users;
        }));
    }

    @Override
    public UserFeed changes() {
        return changes;
    }
}
