package dev.broker.storage.jetstream;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import io.nats.client.JetStream;
import io.nats.client.PublishOptions;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.PublishAck;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
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
    private final Supplier<CompletableFuture<Long>> lastSequence;
    private final int maxInFlight;
    private final Semaphore inFlight;
    private final Semaphore inFlightBytes = new Semaphore((int) (MAX_IN_FLIGHT_BYTES >> 10));

    JetStreamEventLog(JetStreamSettings settings, JetStream jetStream, JetStreamFeed feed,
                      PushReads reads, BooleanSupplier connected, BooleanSupplier open, LongSupplier maxPayload,
                      Supplier<CompletableFuture<Long>> lastSequence, int maxInFlight) {
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
        Objects.requireNonNull(tenant, "tenant");
        List<Event> events = new ArrayList<>();
        return readLatest(tenant, events::add, events).thenApply(JetStreamEventLog::inIdOrder);
    }

    @Override
    public CompletableFuture<Latest> latest(String tenant, int maxNames, long maxBytes) {
        Objects.requireNonNull(tenant, "tenant");
        BoundedSnapshot snapshot = new BoundedSnapshot(maxNames, maxBytes);
        return readLatest(tenant, snapshot::add, snapshot).thenApply(BoundedSnapshot::result);
    }

    /** Collects a snapshot while it stays within its bounds; past them it only counts. */
    private static final class BoundedSnapshot {
        private final int maxNames;
        private final long maxBytes;
        private List<Event> events = new ArrayList<>();
        private int names;
        private long bytes;

        BoundedSnapshot(int maxNames, long maxBytes) {
            this.maxNames = maxNames;
            this.maxBytes = maxBytes;
        }

        void add(Event event) {
            names++;
            bytes += event.name().getBytes(UTF_8).length + event.data().length;
            if (events != null && (names > maxNames || bytes > maxBytes)) {
                events = null; // over a bound: keep nothing from now on
            }
            if (events != null) {
                events.add(event);
            }
        }

        Latest result() {
            return new Latest(events == null ? null : inIdOrder(events), names, bytes);
        }
    }

    /**
     * Reads the tenant's last message of every subject as of the consumer's creation: JetStream delivers them in
     * ascending sequence order, each subject once.
     */
    private <T> CompletableFuture<T> readLatest(String tenant, Consumer<Event> sink, T result) {
        if (!open.getAsBoolean()) {
            return CompletableFuture.failedFuture(BlockingCalls.closed("latest"));
        }
        ConsumerConfiguration.Builder config = ConsumerConfiguration.builder()
                .filterSubject(settings.tenantSubjects(tenant))
                .deliverPolicy(DeliverPolicy.LastPerSubject);
        return reads.read("latest", settings.streamName(), config, Long.MAX_VALUE, message -> {
            sink.accept(messages.decode(message));
            return true;
        }, result);
    }

    @Override
    public CompletableFuture<List<Event>> after(String tenant, long afterId, int limit, long maxDataBytes) {
        Objects.requireNonNull(tenant, "tenant");
        if (!open.getAsBoolean()) {
            return CompletableFuture.failedFuture(BlockingCalls.closed("after"));
        }
        List<Event> page = new ArrayList<>(Math.max(0, Math.min(limit, 256)));
        if (limit < 1 || afterId == Long.MAX_VALUE) {
            return CompletableFuture.completedFuture(page);
        }
        ConsumerConfiguration.Builder config = ConsumerConfiguration.builder()
                .filterSubject(settings.tenantSubjects(tenant))
                .deliverPolicy(DeliverPolicy.ByStartSequence)
                .startSequence(Math.max(1, afterId + 1));
        long[] dataBytes = {0};
        return reads.read("after", settings.streamName(), config, limit, message -> {
            Event event = messages.decode(message);
            page.add(event);
            dataBytes[0] += event.data().length;
            return dataBytes[0] < maxDataBytes;
        }, page);
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
