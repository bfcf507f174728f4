package dev.broker.server.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * Limits failed password checks per username and per client address, before any hashing: each key may fail N times
 * in a burst, then once every 60/N seconds (a token bucket, kept as the "theoretical arrival time" of the generic
 * cell rate algorithm: a {@code long} per key, with the time of its last failure). A check takes its place in both buckets before it is hashed, so
 * that a hundred concurrent guesses cannot all slip in before the first one fails; a check that succeeds (or is never
 * hashed) gives the places back, so success never counts. A key out of places is refused at once with
 * {@link TooManyAttemptsException}, which says when the next place frees. A check whose username and address did
 * not fail in the last minute, and have no other check under way, goes to the first {@linkplain HashLane lane}.
 *
 * <p>The buckets live in bounded Caffeine caches (at most {@value #MAX_KEYS} keys each, forgotten a minute after
 * their last use, when a bucket is full again anyway): a flood of made-up usernames costs bounded memory, and
 * Caffeine's frequency-aware eviction keeps the buckets of keys under sustained attack rather than the flood's
 * one-off ones. Usernames are kept as SHA-256 digests (a login may name a megabyte-long user).
 */
public final class AuthThrottle {

    /** Keys each cache holds at most. */
    static final int MAX_KEYS = 65_536;
    private static final long MINUTE_NANOS = 60L * 1_000_000_000L;

    private final Buckets<ByteBuffer> users;
    private final Buckets<InetAddress> clients;

    /**
     * @param failuresPerUserPerMinute   0 for no limit per username
     * @param failuresPerClientPerMinute 0 for no limit per client address
     */
    public AuthThrottle(int failuresPerUserPerMinute, int failuresPerClientPerMinute) {
        this(failuresPerUserPerMinute, failuresPerClientPerMinute, System::nanoTime);
    }

    AuthThrottle(int failuresPerUserPerMinute, int failuresPerClientPerMinute, LongSupplier clock) {
        this.users = failuresPerUserPerMinute == 0 ? null : new Buckets<>(failuresPerUserPerMinute, clock);
        this.clients = failuresPerClientPerMinute == 0 ? null : new Buckets<>(failuresPerClientPerMinute, clock);
    }

    /** No limits at all (tools and tests that are not about them). */
    public static AuthThrottle unlimited() {
        return new AuthThrottle(0, 0);
    }

    /**
     * Takes a place for one password check of {@code username} from {@code client}.
     *
     * @param client the client's {@code ClientAddress}, or null when unknown (not limited by address then)
     * @throws TooManyAttemptsException when either bucket is empty (no place is taken then)
     */
    public Attempt begin(String username, InetAddress client) {
        ByteBuffer user = users == null ? null : ByteBuffer.wrap(Secrets.sha256(username));
        boolean clean = true;
        if (user != null) {
            clean = users.take(user);
        }
        if (clients != null && client != null) {
            try {
                clean &= clients.take(client);
            } catch (TooManyAttemptsException e) {
                if (user != null) {
                    users.giveBack(user);
                }
                throw e;
            }
        }
        return new Attempt(user, clients == null ? null : client, clean ? HashLane.FIRST : HashLane.SECOND);
    }

    /** One password check's places; exactly one of {@link #succeeded}, {@link #failed}, {@link #abandoned}. */
    public final class Attempt {
        private final ByteBuffer user;
        private final InetAddress client;
        private final HashLane lane;

        private Attempt(ByteBuffer user, InetAddress client, HashLane lane) {
            this.user = user;
            this.client = client;
            this.lane = lane;
        }

        /** Where the check should wait: the second lane when the username or the address failed in the last minute. */
        public HashLane lane() {
            return lane;
        }

        /** The password was right: the places are given back. */
        public void succeeded() {
            giveBack();
        }

        /**
         * The password was wrong (or the user unknown): the places stay taken until they free with time, and for a
         * minute the username's and the address's checks go to the second lane.
         */
        public void failed() {
            if (user != null) {
                users.failed(user);
            }
            if (client != null) {
                clients.failed(client);
            }
        }

        /** The password was never checked (the hashing queue was full): the places are given back. */
        public void abandoned() {
            giveBack();
        }

        private void giveBack() {
            if (user != null) {
                users.giveBack(user);
            }
            if (client != null) {
                clients.giveBack(client);
            }
        }
    }

    /**
     * A key's bucket: its theoretical arrival time in {@code System.nanoTime()} terms, and when it last failed. Not
     * the arrival time alone tells whether it failed lately: checks given back, or a slow trickle of failures, let it
     * fall behind the clock within seconds.
     */
    private record Bucket(long arrival, boolean failed, long lastFailure) {
    }

    /** One token bucket per key. */
    private static final class Buckets<K> {
        private final long interval;
        private final long tolerance;
        private final LongSupplier clock;
        private final ConcurrentMap<K, Bucket> buckets;

        Buckets(int perMinute, LongSupplier clock) {
            this.interval = MINUTE_NANOS / perMinute;
            this.tolerance = interval * (perMinute - 1);
            this.clock = clock;
            Cache<K, Bucket> cache = Caffeine.newBuilder()
                    .maximumSize(MAX_KEYS)
                    // By then the bucket is full again and its last failure a minute old: forgetting it changes nothing.
                    .expireAfterWrite(Duration.ofNanos(Math.max(MINUTE_NANOS, tolerance + interval)))
                    .ticker(clock::getAsLong)
                    // Maintenance on the calling thread: no hand-off to the common pool per failed login.
                    .executor(Runnable::run)
                    .build();
            this.buckets = cache.asMap();
        }

        /**
         * Takes a place for {@code key}; returns whether the key is clean: no failure in the last minute, and no
         * check under way (so that of a burst of concurrent guesses from a new address, only the first is clean).
         *
         * @throws TooManyAttemptsException when no place is left
         */
        boolean take(K key) {
            long now = clock.getAsLong();
            long[] wait = {0};
            boolean[] clean = {true};
            buckets.compute(key, (k, bucket) -> {
                if (bucket == null) {
                    return new Bucket(now + interval, false, 0);
                }
                long from = Math.max(bucket.arrival(), now);
                if (from - now > tolerance) {
                    wait[0] = from - now - tolerance;
                    return bucket;
                }
                clean[0] = bucket.arrival() <= now && (!bucket.failed() || now - bucket.lastFailure() >= MINUTE_NANOS);
                return new Bucket(from + interval, bucket.failed(), bucket.lastFailure());
            });
            if (wait[0] > 0) {
                throw new TooManyAttemptsException(Math.max(1, (wait[0] + 999_999_999L) / 1_000_000_000L));
            }
            return clean[0];
        }

        void giveBack(K key) {
            buckets.computeIfPresent(key, (k, bucket) ->
                    new Bucket(bucket.arrival() - interval, bucket.failed(), bucket.lastFailure()));
        }

        void failed(K key) {
            long now = clock.getAsLong();
            buckets.compute(key, (k, bucket) ->
                    new Bucket(bucket == null ? now + interval : bucket.arrival(), true, now));
        }
    }
}
