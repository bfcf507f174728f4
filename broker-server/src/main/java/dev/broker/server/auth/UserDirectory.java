package dev.broker.server.auth;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.broker.storage.User;
import dev.broker.storage.UserStore;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The users that requests authenticate as, read from the {@link UserStore} through a bounded cache, so that a server
 * with a million users neither loads them all at start nor holds them all in memory.
 *
 * <p>A user in the cache costs a map lookup ({@link #cached}); a miss reads the store ({@link #find}), off the event
 * loop, and concurrent misses for one username share the read. Known users stay until the cache needs the room
 * (Caffeine's W-TinyLFU keeps the frequently used ones, so a scan of one-off usernames does not push them out).
 * Unknown usernames are cached as unknown for {@link #UNKNOWN_TTL} only, so that a user created on another server
 * is found soon even if its change never reaches this one; the paths that look up a username an anonymous client
 * chose (login, HTTP Basic) pass the {@link AuthThrottle} first, so such lookups cannot flood the store.
 *
 * <p>{@link #put} records a stored change (made here or, through the store's change feed, elsewhere): it replaces
 * whatever the cache holds for the username, a read still under way included, so that a revocation is in force for
 * the next request.
 */
public final class UserDirectory {

    /** How long an unknown username is remembered as unknown. */
    static final Duration UNKNOWN_TTL = Duration.ofSeconds(5);

    private final AsyncLoadingCache<String, Optional<User>> cache;

    /** Reads users from {@code store}, holding at most {@code maxUsers} of them (known or not). */
    public UserDirectory(UserStore store, long maxUsers) {
        this(store::find, maxUsers);
    }

    /** Reads users with {@code find} (a store's), holding at most {@code maxUsers} of them (known or not). */
    public UserDirectory(Function<String, CompletableFuture<Optional<User>>> find, long maxUsers) {
        this.cache = Caffeine.newBuilder()
                .maximumSize(maxUsers)
                .expireAfter(new KnownStayUnknownExpire())
                // Maintenance on the calling thread: every request looks its user up here, and Caffeine's default
                // (the common pool) would wake a pool thread each time the read buffer fills, a hand-off per few
                // requests; the maintenance itself takes a try-lock and a few pointer moves.
                .executor(Runnable::run)
                .buildAsync((username, executor) -> find.apply(username));
    }

    /**
     * The user if the cache holds the answer now: the user, {@link Optional#empty()} when known to be unknown, or
     * null when only {@link #find} can tell. Never waits.
     */
    public Optional<User> cached(String username) {
        return cache.synchronous().getIfPresent(username);
    }

    /**
     * The user, or empty when the username is unknown: from the cache (an already completed future), or read from
     * the store (the future completes on the store's thread; continue on your own). Fails with the store's
     * exception when it cannot read.
     */
    public CompletableFuture<Optional<User>> find(String username) {
        return cache.get(username);
    }

    /** Records a user whose creation or change was stored; in force for every lookup from now on. */
    public void put(User user) {
        cache.put(user.username(), CompletableFuture.completedFuture(Optional.of(user)));
    }

    /** Known users stay (until evicted for room); unknown usernames are forgotten after {@link #UNKNOWN_TTL}. */
    private static final class KnownStayUnknownExpire implements Expiry<String, Optional<User>> {

        @Override
        public long expireAfterCreate(String username, Optional<User> user, long currentTime) {
            return user.isPresent() ? Long.MAX_VALUE : UNKNOWN_TTL.toNanos();
        }

        @Override
        public long expireAfterUpdate(String username, Optional<User> user, long currentTime, long currentDuration) {
            return expireAfterCreate(username, user, currentTime);
        }

        @Override
        public long expireAfterRead(String username, Optional<User> user, long currentTime, long currentDuration) {
            return currentDuration;
        }
    }
}
