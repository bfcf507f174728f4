package dev.broker.storage.jetstream;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import io.nats.client.JetStream;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.PublishAck;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The event log on the events stream (layout in {@link EventMessages}).
 *
 * <p>Appends are asynchronous publishes: JetStream acknowledges one only once the stream stored it on a quorum of
 * its replicas; the append then waits (briefly, see {@link #FEED_GRACE}) until this server's feed has delivered
 * the event, so that the feed's listeners see it before its inserter hears of it, as with the embedded store. At
 * most {@link #MAX_IN_FLIGHT} publishes and {@link #MAX_IN_FLIGHT_BYTES} of data are in flight; past that an append
 * is refused with {@link StorageOverloadedException}. While the client is disconnected an append fails at once with
 * {@link StorageUnavailableException} instead of waiting in the client's reconnect buffer.
 *
 * <p>Reads go through a short-lived push consumer filtered to the tenant's subjects ({@link PushReads}), with no
 * thread waiting: {@code latest} with deliver policy last-per-subject (JetStream delivers the last message of each
 * subject in ascending sequence order), {@code after} from the sequence after the given id. Each read costs a
 * consumer creation and deletion on the stream's server, besides the messages.
 */
final class JetStreamEventLog implements EventLog {

    static final int MAX_IN_FLIGHT = 4096;
    static final long MAX_IN_FLIGHT_BYTES = 64L << 20;
    /** The longest a publish may wait for its acknowledgement before the append fails (outcome unknown). */
    static final Duration ACK_TIMEOUT = Duration.ofSeconds(5);
    /**
     * How long an acknowledged append waits for this server's feed to deliver it. Past it (the feed lags or is
     * recreating its consumer after an outage) the append completes anyway: it is durable, and the feed will deliver
     * it when it resumes.
     */
    static final Duration FEED_GRACE = Duration.ofSeconds(2);
    /**
     * The longest subject a publish may have. A NATS server refuses protocol lines over {@code max_control_line}
     * (4 KiB by default); the subject shares that line with the reply inbox and the sizes.
     */
    static final int MAX_SUBJECT_LENGTH = 3900;
    /**
     * The most events a snapshot takes from the stream's leader after its consumer read: enough for any replica's
     * lag; a tenant appended to faster than the leader answers then gets a snapshot as of a moment ago, still
     * consistent (every event up to its newest).
     */
    private static final int MAX_FOLLOWED = 1024;
    /** Room for the headers (time, expected stream) within the servers' {@code max_payload}. */
    private static final int HEADER_ALLOWANCE = 256;

    private final JetStreamSettings settings;
    private final EventMessages messages;
    private final JetStream jetStream;
    private final PublishOptions publishOptions;
    private final JetStreamFeed feed;
    private final PushReads reads;
    private final BooleanSupplier connected;
    private final BooleanSupplier open;
    private final LongSupplier maxPayload;
    /** Sends a message-get request to the events stream's leader. */
    private final Function<byte[], CompletableFuture<Message>> leaderRequests;
    private final Supplier<CompletableFuture<Long>> lastSequence;
    private final int maxInFlight;
    private final Semaphore inFlight;
    private final Semaphore inFlightBytes = new Semaphore((int) (MAX_IN_FLIGHT_BYTES >> 10));

    JetStreamEventLog(JetStreamSettings settings, JetStream jetStream, JetStreamFeed feed,
                      PushReads reads, BooleanSupplier connected, BooleanSupplier open, LongSupplier maxPayload,
                      Supplier<CompletableFuture<Long>> lastSequence,
                      Function<byte[], CompletableFuture<Message>> leaderRequests, int maxInFlight) {
        this.leaderRequests = leaderRequests;
        this.maxInFlight = maxInFlight;
        this.inFlight = new Semaphore(maxInFlight);
        this.settings = settings;
        this.messages = new EventMessages(settings);
        this.jetStream = jetStream;
        this.publishOptions = PublishOptions.builder().expectedStream(settings.streamName()).build();
        this.feed = feed;
        this.reads = reads;
        this.connected = connected;
        this.open = open;
        this.maxPayload = maxPayload;
        this.lastSequence = lastSequence;
    }

    @Override
    public CompletableFuture<Event> append(String tenant, String name, byte[] data) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        if (!open.getAsBoolean()) {
            return CompletableFuture.failedFuture(BlockingCalls.closed("append"));
        }
        if (!connected.getAsBoolean()) {
            return CompletableFuture.failedFuture(new StorageUnavailableException("append: not connected to NATS"));
        }
        String subject = settings.eventSubject(tenant, name);
        if (subject.length() > MAX_SUBJECT_LENGTH) {
            return CompletableFuture.failedFuture(new StorageException("append: tenant and event name take "
                    + subject.length() + " characters as a NATS subject, more than " + MAX_SUBJECT_LENGTH));
        }
        long maxPayload = this.maxPayload.getAsLong();
        if (data.length + HEADER_ALLOWANCE > maxPayload) {
            return CompletableFuture.failedFuture(new StorageException("append: " + data.length
                    + " bytes of data do not fit the NATS servers' max_payload of " + maxPayload + " bytes"));
        }
        // At least 1 KiB each; at most the whole budget, so that one large event can still go alone.
        int kibibytes = (int) Math.min(Math.max(1, data.length >> 10), MAX_IN_FLIGHT_BYTES >> 10);
        if (!inFlight.tryAcquire()) {
            return CompletableFuture.failedFuture(overloaded());
        }
        if (!inFlightBytes.tryAcquire(kibibytes)) {
            inFlight.release();
            return CompletableFuture.failedFuture(overloaded());
        }
        long timestamp = System.currentTimeMillis();
        CompletableFuture<PublishAck> ack;
        try {
            ack = jetStream.publishAsync(subject, EventMessages.headers(timestamp), data, publishOptions);
        } catch (RuntimeException e) {
            ack = CompletableFuture.failedFuture(e);
        }
        return ack.orTimeout(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .handle((published, failure) -> {
                    inFlightBytes.release(kibibytes);
                    inFlight.release();
                    if (failure != null) {
                        throw new CompletionException(appendFailure(failure));
                    }
                    return new Event(published.getSeqno(), tenant, name, timestamp, data);
                })
                .thenCompose(event -> feed.awaitDelivered(event.id())
                        .completeOnTimeout(null, FEED_GRACE.toMillis(), TimeUnit.MILLISECONDS)
                        .exceptionally(closing -> null) // durable all the same
                        .thenApply(delivered -> event));
    }

    private static StorageOverloadedException overloaded() {
        return new StorageOverloadedException("append: too many appends waiting for JetStream");
    }

    private static StorageException appendFailure(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof TimeoutException || cause instanceof CancellationException) {
            return new StorageUnavailableException("append: no acknowledgement from JetStream within "
                    + ACK_TIMEOUT.toSeconds() + " s; the event may or may not be stored", cause);
        }
        return BlockingCalls.failure("append", cause);
    }

    /**
     * Waits, at most {@code timeout}, until every append in flight was acknowledged or failed; called once the
     * storage refuses new appends.
     */
    boolean awaitAppends(Duration timeout) {
        try {
            if (inFlight.tryAcquire(maxInFlight, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                inFlight.release(maxInFlight);
                return true;
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public CompletableFuture<List<Event>> latest(String tenant) {
        return latest(tenant, Integer.MAX_VALUE, Long.MAX_VALUE).thenApply(Latest::events);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The consumer may run on a replica that lags the stream's leader (JetStream places one-replica consumers on
     * any of the stream's servers; one that just restarted lags by its whole catch-up), and a replica holds a prefix
     * of the leader's log. So the read is followed by asking the leader for the tenant's events after the newest one
     * read, one at a time, until it has none: the snapshot is then current as of the leader.
     */
    @Override
    public CompletableFuture<Latest> latest(String tenant, int maxNames, long maxBytes) {
        Objects.requireNonNull(tenant, "tenant");
        if (!open.getAsBoolean()) {
            return CompletableFuture.failedFuture(BlockingCalls.closed("latest"));
        }
        Snapshot snapshot = new Snapshot(maxNames, maxBytes);
        ConsumerConfiguration.Builder config = ConsumerConfiguration.builder()
                .filterSubject(settings.tenantSubjects(tenant))
                .deliverPolicy(DeliverPolicy.LastPerSubject);
        return reads.read("latest", settings.streamName(), config, Long.MAX_VALUE, message -> {
            snapshot.add(messages.decode(message));
            return true;
        }, snapshot)
                .thenCompose(read -> followLeader("latest", tenant, snapshot.newestId, MAX_FOLLOWED,
                        snapshot::add))
                .thenApply(followed -> snapshot.result());
    }

    /**
     * A snapshot under construction: the latest event of each name while within its bounds; past them it only
     * counts (a name the leader adds later may then be counted twice: an overestimate, never an underestimate).
     */
    private static final class Snapshot {
        private final int maxNames;
        private final long maxBytes;
        private Map<String, Event> byName = new HashMap<>();
        private int names;
        private long bytes;
        long newestId;

        Snapshot(int maxNames, long maxBytes) {
            this.maxNames = maxNames;
            this.maxBytes = maxBytes;
        }

        /** Adds an event newer than every one added before. */
        boolean add(Event event) {
            newestId = event.id();
            Event replaced = byName == null ? null : byName.put(event.name(), event);
            if (replaced == null) {
                names++;
                bytes += event.name().getBytes(UTF_8).length + event.data().length;
            } else {
                bytes += event.data().length - replaced.data().length;
            }
            if (byName != null && (names > maxNames || bytes > maxBytes)) {
                byName = null; // over a bound: keep nothing from now on
            }
            return true;
        }

        Latest result() {
            return new Latest(byName == null ? null : inIdOrder(new ArrayList<>(byName.values())), names, bytes);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>A page the consumer ended short (fewer than {@code limit} events, under the byte bound) is completed from
     * the stream's leader, for the reason {@link #latest(String, int, long)} gives.
     */
    @Override
    public CompletableFuture<List<Event>> after(String tenant, long afterId, int limit, long maxDataBytes) {
        Objects.requireNonNull(tenant, "tenant");
        if (!open.getAsBoolean()) {
            return CompletableFuture.failedFuture(BlockingCalls.closed("after"));
        }
        Page page = new Page(limit, maxDataBytes);
        if (limit < 1 || afterId == Long.MAX_VALUE) {
            return CompletableFuture.completedFuture(page.events);
        }
        ConsumerConfiguration.Builder config = ConsumerConfiguration.builder()
                .filterSubject(settings.tenantSubjects(tenant))
                .deliverPolicy(DeliverPolicy.ByStartSequence)
                .startSequence(Math.max(1, afterId + 1));
        return reads.read("after", settings.streamName(), config, limit,
                        message -> page.add(messages.decode(message)), page)
                .thenCompose(read -> page.full() ? CompletableFuture.completedFuture(null)
                        : followLeader("after", tenant, page.lastId(afterId), limit - page.events.size(), page::add))
                .thenApply(followed -> page.events);
    }

    /** A page of {@code after}: full at its limit or once its data reaches the byte bound. */
    private static final class Page {
        final List<Event> events;
        private final int limit;
        private final long maxDataBytes;
        private long dataBytes;

        Page(int limit, long maxDataBytes) {
            this.events = new ArrayList<>(Math.max(0, Math.min(limit, 256)));
            this.limit = limit;
            this.maxDataBytes = maxDataBytes;
        }

        /** Adds an event; false once the page is full. */
        boolean add(Event event) {
            events.add(event);
            dataBytes += event.data().length;
            return !full();
        }

        boolean full() {
            return events.size() >= limit || dataBytes >= maxDataBytes;
        }

        long lastId(long afterId) {
            return events.isEmpty() ? afterId : events.get(events.size() - 1).id();
        }
    }

    /**
     * Asks the stream's leader for the tenant's events after {@code afterId}, one at a time, handing each to
     * {@code sink} until the leader has no more, {@code sink} returns false, or {@code budget} events were handed.
     */
    private CompletableFuture<Void> followLeader(String operation, String tenant, long afterId, int budget,
                                                 Predicate<Event> sink) {
        if (budget <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return nextOnLeader(operation, tenant, afterId).thenCompose(next -> {
            if (next.isEmpty() || !sink.test(next.get())) {
                return CompletableFuture.completedFuture(null);
            }
            return followLeader(operation, tenant, next.get().id(), budget - 1, sink);
        });
    }

    /** The tenant's first event after {@code afterId} on the stream's leader, if any. */
    private CompletableFuture<Optional<Event>> nextOnLeader(String operation, String tenant, long afterId) {
        if (!connected.getAsBoolean()) {
            return CompletableFuture.failedFuture(new StorageUnavailableException(operation
                    + ": not connected to NATS"));
        }
        // Tokens and the prefix need no JSON escaping: they hold only [-_=A-Za-z0-9], dots and the wildcard.
        byte[] request = ("{\"seq\":" + (afterId + 1) + ",\"next_by_subj\":\"" + settings.tenantSubjects(tenant)
                + "\"}").getBytes(UTF_8);
        return leaderRequests.apply(request).handle((reply, failure) -> {
            if (failure != null) {
                throw new CompletionException(new StorageUnavailableException(operation
                        + ": the stream's leader did not answer: " + failure.getClass().getSimpleName(), failure));
            }
            MessageInfo info = new MessageInfo(reply, settings.streamName(), false);
            if (info.hasError()) {
                if (info.getApiErrorCode() == JetStreamErrors.NO_MESSAGE_FOUND) {
                    return Optional.empty();
                }
                throw new CompletionException(new StorageException(operation + ": JetStream refused: "
                        + info.getError()));
            }
            return Optional.of(messages.decode(info.getSubject(), info.getSeq(), info.getHeaders(), info.getData(),
                    info.getTime()));
        });
    }

    @Override
    public CompletableFuture<Long> lastIssuedId() {
        if (!open.getAsBoolean()) {
            return CompletableFuture.failedFuture(BlockingCalls.closed("last issued id"));
        }
        return lastSequence.get().exceptionallyCompose(failure -> CompletableFuture.failedFuture(
                BlockingCalls.failure("last issued id",
                        failure instanceof CompletionException && failure.getCause() != null
                                ? failure.getCause() : failure)));
    }

    private static List<Event> inIdOrder(List<Event> events) {
        events.sort(Comparator.comparingLong(Event::id));
        return events;
    }
}
