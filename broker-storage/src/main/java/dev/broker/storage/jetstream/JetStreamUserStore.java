package dev.broker.storage.jetstream;

import dev.broker.storage.FeedListeners;

import dev.broker.storage.StorageException;
import dev.broker.storage.User;
import dev.broker.storage.UserFeed;
import dev.broker.storage.UserStore;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.Message;
import io.nats.client.StreamContext;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Users in the key-value bucket {@code <prefix>_users}: key {@link SubjectTokens#encode} of the username, value
 * {@link UserRecords}. JetStream makes each write durable on a quorum of the bucket's replicas before it answers.
 *
 * <ul>
 *   <li>{@code create} is the bucket's create, which the stream refuses when the key holds a value: usernames stay
 *       unique across every server sharing the bucket.</li>
 *   <li>{@code find} and {@code setRevoked} read the key's last value from the bucket stream's leader (never from a
 *       replica that may lag); {@code setRevoked} then updates it expecting the revision it read, retrying on a
 *       concurrent change.</li>
 *   <li>{@code list} reads the last value of every key through one consumer of the bucket's stream and sorts by
 *       username. Every page reads the whole bucket: fine for thousands of users, linear in their number beyond
 *       (a page of 100 among 100,000 users reads about 15 MB).</li>
 *   <li>{@code changes} follows every key from the bucket's last revision at open through an ordered consumer of the
 *       bucket's stream, as the events feed does (see {@link JetStreamFeed}): the changes of every server, once
 *       stored, each once, without gap after an outage.</li>
 * </ul>
 */
final class JetStreamUserStore implements UserStore {

    private static final System.Logger LOG = System.getLogger(JetStreamUserStore.class.getName());
    /** Concurrent revocation changes of one user retry this many times before failing. */
    private static final int UPDATE_ATTEMPTS = 16;
    private static final String OPERATION_HEADER = "KV-Operation";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    private static final Comparator<String> CODE_POINT_ORDER = (a, b) -> Arrays.compareUnsigned(
            a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    private final KeyValue bucket;
    private final StreamContext bucketStream;
    private final String keySubjectStart;
    private final ConsumerReads reader;
    private final BlockingCalls calls;
    /** Sends a message-get request to the bucket stream's leader. */
    private final Function<byte[], CompletableFuture<Message>> leaderRequests;
    private final FeedListeners<User> listeners = new FeedListeners<>("user change");
    private final UserFeed feed = listeners::subscribe;

    JetStreamUserStore(KeyValue bucket, StreamContext bucketStream, String bucketName, ConsumerReads reader,
                       BlockingCalls calls, Function<byte[], CompletableFuture<Message>> leaderRequests) {
        this.leaderRequests = leaderRequests;
        this.bucket = bucket;
        this.bucketStream = bucketStream;
        this.keySubjectStart = "$KV." + bucketName + ".";
        this.reader = reader;
        this.calls = calls;
    }

    /** The subjects of every key of the bucket, which the change feed's consumer follows. */
    String allKeysSubject() {
        return keySubjectStart + ">";
    }

    /**
     * Hands one message of the bucket's stream to the change feed's listeners; called on the change feed's one
     * dispatcher thread, in stream order.
     */
    void change(Message message) {
        if (!isPut(message)) {
            return; // Broker never deletes users; an operator's delete is not a change of ours to follow
        }
        User user;
        try {
            user = UserRecords.decode(usernameOf(message), message.getData());
        } catch (IllegalArgumentException e) {
            LOG.log(Level.WARNING, "users bucket: skipped a value Broker did not write: " + e.getMessage());
            return;
        }
        listeners.publish(user);
    }

    private String usernameOf(Message message) {
        return SubjectTokens.decode(message.getSubject().substring(keySubjectStart.length()));
    }

    @Override
    public CompletableFuture<Boolean> create(User user) {
        Objects.requireNonNull(user, "user");
        return calls.run("create user", () -> {
            try {
                bucket.create(SubjectTokens.encode(user.username()), UserRecords.encode(user));
                return true;
            } catch (JetStreamApiException e) {
                if (e.getApiErrorCode() == JetStreamErrors.WRONG_LAST_SEQUENCE) {
                    return false; // the key holds a user: taken, possibly through another server
                }
                throw e;
            }
        });
    }

    @Override
    public CompletableFuture<Optional<User>> find(String username) {
        Objects.requireNonNull(username, "username");
        return calls.run("find user", () -> lastOnLeader(username).map(stored -> stored.user));
    }

    @Override
    public CompletableFuture<Optional<User>> setRevoked(String username, boolean revoked) {
        Objects.requireNonNull(username, "username");
        return calls.run("set revoked", () -> {
            String key = SubjectTokens.encode(username);
            for (int attempt = 1; ; attempt++) {
                Optional<Stored> stored = lastOnLeader(username);
                if (stored.isEmpty()) {
                    return Optional.empty();
                }
                User user = stored.get().user;
                if (user.revoked() == revoked) {
                    return Optional.of(user); // already so: no write needed
                }
                User updated = user.withRevoked(revoked);
                try {
                    bucket.update(key, UserRecords.encode(updated), stored.get().revision);
                    return Optional.of(updated);
                } catch (JetStreamApiException e) {
                    if (e.getApiErrorCode() != JetStreamErrors.WRONG_LAST_SEQUENCE || attempt == UPDATE_ATTEMPTS) {
                        throw e;
                    }
                    // changed by someone else since we read it: read again
                }
            }
        });
    }

    /** A user as stored, with the revision an update must expect. */
    private record Stored(User user, long revision) {
    }

    /**
     * The user's current value, asked of the bucket stream's leader. Not the bucket's own get: buckets allow direct
     * gets, which any replica answers, possibly one that lags (a revocation just made through another server would
     * then read as not yet made).
     */
    private Optional<Stored> lastOnLeader(String username)
            throws IOException, JetStreamApiException, InterruptedException, TimeoutException {
        byte[] request = ("{\"last_by_subj\":\"" + keySubjectStart + SubjectTokens.encode(username) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        Message reply;
        try {
            reply = leaderRequests.apply(request).get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IOException("no answer from the users bucket's leader", e.getCause());
        }
        MessageInfo info = new MessageInfo(reply, bucketStream.getStreamName(), false);
        if (info.hasError()) {
            if (info.getApiErrorCode() == JetStreamErrors.NO_MESSAGE_FOUND) {
                return Optional.empty();
            }
            throw new JetStreamApiException(info);
        }
        if (!isPut(info.getHeaders())) {
            return Optional.empty(); // deleted with the NATS tools
        }
        return Optional.of(new Stored(decode(username, info.getData()), info.getSeq()));
    }

    @Override
    public CompletableFuture<List<User>> list() {
        return calls.run("list users", this::readAll);
    }

    @Override
    public CompletableFuture<List<User>> list(String afterUsername, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        return calls.run("list users", () -> {
            List<User> all = readAll();
            int from = 0;
            if (afterUsername != null && !afterUsername.isEmpty()) {
                while (from < all.size() && CODE_POINT_ORDER.compare(all.get(from).username(), afterUsername) <= 0) {
                    from++;
                }
            }
            return new ArrayList<>(all.subList(from, Math.min(all.size(), from + limit)));
        });
    }

    @Override
    public UserFeed changes() {
        return feed;
    }

    /** Every user, in code point order of the username (the order of the embedded store's UTF-8 keys). */
    private List<User> readAll() throws IOException, JetStreamApiException, InterruptedException {
        List<User> users = new ArrayList<>();
        reader.read(bucketStream, ConsumerReads.consumer(allKeysSubject())
                .deliverPolicy(DeliverPolicy.LastPerSubject).build(), Long.MAX_VALUE, message -> {
                    if (isPut(message)) {
                        users.add(decode(usernameOf(message), message.getData()));
                    }
                    return true;
                });
        users.sort(Comparator.comparing(User::username, CODE_POINT_ORDER));
        return users;
    }

    private static boolean isPut(Message message) {
        return isPut(message.getHeaders());
    }

    private static boolean isPut(Headers headers) {
        String operation = headers == null ? null : headers.getFirst(OPERATION_HEADER);
        return operation == null || operation.equals("PUT");
    }

    private static User decode(String username, byte[] value) {
        try {
            return UserRecords.decode(username, value);
        } catch (IllegalArgumentException e) {
            throw new StorageException("users bucket holds a value Broker did not write: " + e.getMessage(), e);
        }
    }
}
