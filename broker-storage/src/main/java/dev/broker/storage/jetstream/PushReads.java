package dev.broker.storage.jetstream;

import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerCreateRequest;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.support.NatsJetStreamConstants;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * One-shot reads of a stream without a thread of their own: each read creates an ephemeral push consumer whose
 * deliver subject is one of this reader's inboxes, collects what it pushes on a dispatcher thread, and deletes it.
 * One request and one answer-less delete per read, besides a subscription to its inbox (no round trip).
 *
 * <p>The consumer's answer counts the messages pending at its creation; the read takes exactly that many (or the
 * limit), so it is a snapshot as of its start even while writes go on. A bounded read (a page) asks for explicit
 * acknowledgements with at most {@code limit} outstanding and gives none, so JetStream pushes no more than the page;
 * an unbounded one (a snapshot) takes everything pending, unacknowledged.
 * A read also ends when the consumer, idle, reports having pushed exactly what arrived (its heartbeat), so a
 * miscount at creation cannot stall it.
 * A read fails with {@link StorageUnavailableException} when JetStream does not answer, skips a message (a
 * consumer sequence gap: the dispatcher dropped some as a slow consumer), or does not finish within
 * {@link #READ_TIMEOUT}; at most {@link #MAX_READS} run at once, past that a read is refused as overload.
 */
final class PushReads {

    static final int MAX_READS = 1024;
    static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    /** How soon a consumer that has pushed everything says so (see {@code Read.idle}). */
    static final Duration IDLE_HEARTBEAT = Duration.ofMillis(200);
    /** A consumer the delete request missed goes away by itself after this long. */
    private static final Duration INACTIVITY = Duration.ofSeconds(30);

    private final Connection connection;
    private final Dispatcher dispatcher;
    private final String inboxPrefix;
    private final AtomicLong readIds = new AtomicLong();
    private final Set<Read<?>> reads = ConcurrentHashMap.newKeySet();
    private final Semaphore permits = new Semaphore(MAX_READS);

    PushReads(Connection connection) {
        this.connection = connection;
        this.inboxPrefix = connection.createInbox() + ".";
        this.dispatcher = connection.createDispatcher();
    }

    /** Collects the messages of one read; touched on the dispatcher thread, and by the answer to the create. */
    private final class Read<T> {
        final String deliverSubject;
        final String stream;
        final long limit;
        final Function<Message, Boolean> sink;
        final T result;
        final CompletableFuture<T> future = new CompletableFuture<>();
        volatile String consumerName;
        long expected = -1; // guarded by this
        long received; // guarded by this
        boolean stopped; // guarded by this: the sink wanted no more
        Subscription subscription; // guarded by this

        Read(String deliverSubject, String stream, long limit, Function<Message, Boolean> sink, T result) {
            this.deliverSubject = deliverSubject;
            this.stream = stream;
            this.limit = limit;
            this.sink = sink;
            this.result = result;
        }

        synchronized void created(ConsumerInfo info) {
            consumerName = info.getName();
            if (!stopped) {
                expected = Math.min(limit, info.getNumPending());
            }
            finishIfDone();
        }

        synchronized void message(Message message) {
            if (future.isDone()) {
                return;
            }
            if (message.isStatusMessage()) {
                idle(message);
                return;
            }
            if (!message.isJetStream()) {
                return;
            }
            long sequence = message.metaData().consumerSequence();
            if (sequence != received + 1) {
                fail(new StorageUnavailableException("read: JetStream skipped messages (a slow consumer)"));
                return;
            }
            received++;
            boolean more;
            try {
                more = sink.apply(message);
            } catch (RuntimeException e) {
                fail(new StorageException("read: " + e.getMessage(), e));
                return;
            }
            if (!more) {
                stopped = true;
                expected = received;
            }
            finishIfDone();
        }

        /**
         * An idle heartbeat says the consumer has nothing more to push. Once it has pushed exactly what arrived, the
         * read is complete whatever the count at creation said: nats-server 2.9 can give a {@code num_pending} that
         * counts more than it ever delivers, and the read would otherwise wait for its timeout. Waits for the
         * creation's answer, so that the consumer is deleted by name.
         */
        private void idle(Message status) {
            if (expected < 0 || !status.getStatus().isHeartbeat() || status.getHeaders() == null) {
                return;
            }
            String lastConsumer = status.getHeaders().getFirst(NatsJetStreamConstants.LAST_CONSUMER_HDR);
            if (lastConsumer != null && Long.parseLong(lastConsumer.strip()) == received) {
                expected = received;
                finishIfDone();
            }
        }

        private void finishIfDone() {
            if (expected >= 0 && received >= expected) {
                end();
                future.complete(result);
            }
        }

        synchronized void fail(StorageException failure) {
            if (!future.isDone()) {
                end();
                future.completeExceptionally(failure);
            }
        }

        private void end() {
            reads.remove(this);
            if (subscription != null) {
                dispatcher.unsubscribe(subscription);
            }
            if (consumerName != null && connection.getStatus() == Connection.Status.CONNECTED) {
                connection.requestWithTimeout("$JS.API.CONSUMER.DELETE." + stream + "." + consumerName, null,
                        READ_TIMEOUT).exceptionally(lost -> null);
            }
        }
    }

    /**
     * Reads at most {@code limit} of the messages pending for a consumer of {@code config} at its creation, handing
     * each to {@code sink} in stream order (false ends the read after that message); completes with {@code result}.
     */
    <T> CompletableFuture<T> read(String operation, String stream, ConsumerConfiguration.Builder config, long limit,
                                  Function<Message, Boolean> sink, T result) {
        if (connection.getStatus() != Connection.Status.CONNECTED) {
            return CompletableFuture.failedFuture(new StorageUnavailableException(operation
                    + ": not connected to NATS"));
        }
        if (limit <= 0) {
            return CompletableFuture.completedFuture(result);
        }
        if (!permits.tryAcquire()) {
            return CompletableFuture.failedFuture(new StorageOverloadedException(operation
                    + ": too many reads waiting for JetStream"));
        }
        String deliverSubject = inboxPrefix + readIds.incrementAndGet();
        Read<T> read = new Read<>(deliverSubject, stream, limit, sink, result);
        reads.add(read);
        synchronized (read) {
            // JetStream pushes each message with its own subject: the subscription, not the subject, names the read
            read.subscription = dispatcher.subscribe(deliverSubject, read::message);
        }
        // Unbounded reads take everything pending, without acknowledgements; bounded ones ask for explicit ones and
        // never give any, so JetStream stops pushing after the limit.
        boolean bounded = limit < Integer.MAX_VALUE;
        ConsumerConfiguration consumer = config
                .deliverSubject(deliverSubject)
                .ackPolicy(bounded ? AckPolicy.Explicit : AckPolicy.None)
                .maxAckPending(bounded ? limit : 0)
                .memStorage(true)
                .numReplicas(1)
                .inactiveThreshold(INACTIVITY)
                .idleHeartbeat(IDLE_HEARTBEAT)
                .build();
        read.future.whenComplete((done, failure) -> permits.release());
        CompletableFuture.delayedExecutor(READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).execute(() -> read.fail(
                new StorageUnavailableException(operation + ": not read within " + READ_TIMEOUT.toSeconds() + " s")));
        byte[] request = new ConsumerCreateRequest(stream, consumer).serialize();
        connection.requestWithTimeout("$JS.API.CONSUMER.CREATE." + stream, request, READ_TIMEOUT)
                .whenComplete((answer, failure) -> {
                    if (failure != null) {
                        read.fail(new StorageUnavailableException(operation + ": JetStream did not answer: "
                                + failure.getClass().getSimpleName(), failure));
                        return;
                    }
                    ConsumerInfo info = new ConsumerInfo(answer);
                    if (info.hasError()) {
                        read.fail(new StorageException(operation + ": JetStream refused the read: "
                                + info.getError()));
                    } else {
                        read.created(info);
                    }
                });
        return read.future;
    }

    /** Fails the reads under way: the store is closing. */
    void close() {
        List<Read<?>> pending = new ArrayList<>(reads);
        pending.forEach(read -> read.fail(new StorageException("read: storage is closed")));
        connection.closeDispatcher(dispatcher);
    }
}
