package dev.broker.storage.jetstream;

import dev.broker.storage.EventFeed;
import dev.broker.storage.EventLog;
import dev.broker.storage.Storage;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageHealth;
import dev.broker.storage.StorageUnavailableException;
import dev.broker.storage.UserStore;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamOptions;
import io.nats.client.JetStreamSubscription;
import io.nats.client.KeyValue;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.StreamContext;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StreamInfo;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Storage in NATS JetStream, shared by every Broker server that points at the same NATS with the same prefix: the
 * event log is one stream, the users one key-value bucket, and nothing is kept on local disk.
 *
 * <ul>
 *   <li>Stream {@code <prefix>_events}, subjects {@code <prefix>.ev.<tenant token>.<name token>}
 *       ({@link SubjectTokens}), file storage, limits retention with no limits, the configured replica count. An
 *       event's id is its stream sequence: one counter for every tenant and every server, so ids are strictly
 *       increasing within a tenant across servers, and comparable across tenants.</li>
 *   <li>Bucket {@code <prefix>_users} (stream {@code KV_<prefix>_users}), file storage, one revision per key, the
 *       configured replica count. See {@link JetStreamUserStore}.</li>
 *   <li>Durability: JetStream acknowledges a publish or a key-value write once a quorum of the stream's replicas
 *       stored it (written, and flushed to disk on the servers' own sync interval), which is when an append's or a
 *       user write's future completes.</li>
 * </ul>
 *
 * <p>{@link #open} creates the stream and the bucket when missing, and refuses, with a {@link StorageException}
 * naming the setting, a stream or bucket it cannot work with (see {@link StreamSetup}). A replica count other than
 * the configured one is accepted with a warning: an operator may have scaled the stream with the NATS tools on
 * purpose, and Broker works with any count (the durability above is then that of the actual count).
 *
 * <p>Threads: the client's own (connection, dispatchers: the feed's listeners, the user watch and event reads run on
 * dispatcher threads), {@code broker-nats-call-1..4} for blocking calls (key-value operations) and
 * {@code broker-nats-health} which asks the stream for its state every {@link #HEALTH_INTERVAL}. All end on
 * {@link #close()}.
 */
public final class JetStreamStorage implements Storage {

    private static final System.Logger LOG = System.getLogger(JetStreamStorage.class.getName());

    static final Duration HEALTH_INTERVAL = Duration.ofSeconds(1);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    /** How long {@link #open} waits for JetStream to answer (a cluster that is still electing its leaders). */
    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration RECONNECT_WAIT = Duration.ofMillis(250);
    /** A silent connection is declared dead after two missed pings. */
    private static final Duration PING_INTERVAL = Duration.ofSeconds(2);
    /**
     * The feeds' ordered consumers are recreated after three missed heartbeats (or at once after a gap): this is how
     * quickly the event feed and the users' change feed resume after a NATS outage.
     */
    private static final Duration FEED_HEARTBEAT = Duration.ofSeconds(1);
    private static final int CALL_THREADS = 4;
    private static final int CALL_QUEUE = 4096;

    private final JetStreamSettings settings;
    private final Connection connection;
    private final BlockingCalls calls;
    private final PushReads pushReads;
    private final ScheduledExecutorService healthChecks;
    private final JetStreamFeed feed;
    private final JetStreamEventLog eventLog;
    private final JetStreamUserStore userStore;
    private final Dispatcher feedDispatcher;
    private final JetStreamSubscription feedSubscription;
    private final JetStreamSubscription userWatch;

    private volatile boolean open;
    private volatile StorageHealth streamHealth = StorageHealth.WRITABLE;
    private final Object lifecycleLock = new Object();
    private boolean closeStarted; // guarded by lifecycleLock

    private JetStreamStorage(JetStreamSettings settings, Connection connection, StreamSetup.Found found,
                             int maxAppendsInFlight) throws IOException, JetStreamApiException {
        this.settings = settings;
        this.connection = connection;
        JetStreamOptions jetStreamOptions = StreamSetup.jetStreamOptions();
        JetStream jetStream = connection.jetStream(jetStreamOptions);
        StreamContext usersStream = connection.getStreamContext(settings.usersStreamName(), jetStreamOptions);
        KeyValue bucket = connection.keyValue(settings.usersBucket());

        open = true;
        calls = new BlockingCalls("broker-nats-call-", CALL_THREADS, CALL_QUEUE, this::isOpen);
        ConsumerReads reads = new ConsumerReads(this::deleteConsumerLater);
        long startSequence = found.eventsLastSequence();
        feed = new JetStreamFeed(startSequence, this::streamLastSequence);
        pushReads = new PushReads(connection);
        eventLog = new JetStreamEventLog(settings, jetStream, feed, pushReads, this::isConnected,
                this::isOpen, connection::getMaxPayload, this::streamLastSequence,
                request -> connection.requestWithTimeout("$JS.API.STREAM.MSG.GET." + settings.streamName(), request,
                        REQUEST_TIMEOUT), maxAppendsInFlight);
        userStore = new JetStreamUserStore(bucket, usersStream, settings.usersBucket(), reads, calls,
                request -> connection.requestWithTimeout("$JS.API.STREAM.MSG.GET." + settings.usersStreamName(),
                        request, REQUEST_TIMEOUT));

        // The feed: one ordered push consumer of every event, from right after the last at open. Starting at an
        // explicit sequence (not "new") matters: the client recreates the consumer from the last sequence it
        // delivered, or, before the first, with this start again, so an outage right after open loses nothing.
        EventMessages messages = new EventMessages(settings);
        feedDispatcher = connection.createDispatcher();
        feedSubscription = jetStream.subscribe(settings.allEventsSubject(), feedDispatcher,
                message -> deliverToFeed(messages, message), false,
                PushSubscribeOptions.builder().stream(settings.streamName()).ordered(true)
                        .configuration(orderedFrom(settings.allEventsSubject(), startSequence + 1)).build());

        // The users' change feed: the same kind of consumer, of the bucket's stream, from after its last revision.
        userWatch = jetStream.subscribe(userStore.allKeysSubject(), feedDispatcher, userStore::change, false,
                PushSubscribeOptions.builder().stream(settings.usersStreamName()).ordered(true)
                        .configuration(orderedFrom(userStore.allKeysSubject(), found.usersLastRevision() + 1))
                        .build());

        healthChecks = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "broker-nats-health");
            thread.setDaemon(true); // holds no work of anyone's; close() ends it all the same
            return thread;
        });
        healthChecks.scheduleWithFixedDelay(this::checkStream, HEALTH_INTERVAL.toMillis(),
                HEALTH_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** An ordered consumer's settings: from {@code startSequence}, with the heartbeat that bounds its recovery. */
    private static ConsumerConfiguration orderedFrom(String filterSubject, long startSequence) {
        return ConsumerConfiguration.builder()
                .filterSubject(filterSubject)
                .deliverPolicy(DeliverPolicy.ByStartSequence)
                .startSequence(startSequence)
                .ackPolicy(AckPolicy.None)
                .idleHeartbeat(FEED_HEARTBEAT)
                .flowControl(FEED_HEARTBEAT)
                .build();
    }

    /**
     * Connects, creates the stream and the users bucket if missing, refuses (StorageException with a clear operator
     * message) if they exist with settings it cannot work with. Blocks (up to about half a minute while a new
     * cluster elects its leaders); call at start-up.
     */
    public static JetStreamStorage open(JetStreamSettings settings) {
        return open(settings, JetStreamEventLog.MAX_IN_FLIGHT);
    }

    /** {@link #open(JetStreamSettings)} with another bound on the appends in flight; for this package's tests. */
    static JetStreamStorage open(JetStreamSettings settings, int maxAppendsInFlight) {
        Connection connection;
        try {
            connection = Nats.connect(options(settings));
        } catch (IOException e) {
            throw new StorageException("open: cannot connect to NATS at " + settings.serversForDisplay() + ": "
                    + JetStreamSettings.masked(e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("open: interrupted while connecting to NATS", e);
        }
        StreamSetup.Found found;
        try {
            found = StreamSetup.ensure(connection, settings, OPEN_TIMEOUT);
        } catch (RuntimeException e) {
            closeQuietly(connection);
            throw e;
        }
        try {
            return new JetStreamStorage(settings, connection, found, maxAppendsInFlight);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            closeQuietly(connection);
            throw new StorageException("open: cannot subscribe to the events stream or the users bucket: " + e, e);
        }
    }

    private static Options options(JetStreamSettings settings) {
        Options.Builder options = new Options.Builder()
                .servers(settings.servers().toArray(String[]::new))
                .connectionName("broker")
                .maxReconnects(-1) // forever: the storage recovers by itself when NATS returns
                .reconnectWait(RECONNECT_WAIT)
                .connectionTimeout(REQUEST_TIMEOUT)
                .pingInterval(PING_INTERVAL)
                .errorListener(new QuietErrors());
        if (settings.credsFile() != null) {
            options.authHandler(authHandler(settings.credsFile()));
        }
        if (settings.caFile() != null) {
            options.sslContext(trusting(settings.caFile()));
        }
        return options.build();
    }

    /** A {@code .creds} file holds a user JWT before the seed; a file with just a seed is an nkey file. */
    private static io.nats.client.AuthHandler authHandler(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StorageException("open: cannot read the NATS credentials file " + file + ": " + e, e);
        }
        return text.contains("BEGIN NATS USER JWT")
                ? Nats.credentials(file.toString())
                : Nats.credentials(null, file.toString());
    }

    private static SSLContext trusting(Path caFile) {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int index = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("ca-" + index++, certificate);
            }
            if (index == 0) {
                throw new StorageException("open: no certificate in the NATS CA file " + caFile);
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new StorageException("open: cannot load the NATS CA file " + caFile + ": " + e.getMessage(), e);
        }
    }

    private void deliverToFeed(EventMessages messages, Message message) {
        dev.broker.storage.Event event;
        try {
            event = messages.decode(message);
        } catch (IllegalArgumentException e) {
            LOG.log(Level.WARNING, "events stream: skipped a message Broker did not write: " + e.getMessage());
            feed.skip(message.metaData().streamSequence());
            return;
        }
        feed.deliver(event);
    }

    /** The events stream's last sequence, asked without blocking a thread. */
    private CompletableFuture<Long> streamLastSequence() {
        if (!isConnected()) {
            return CompletableFuture.failedFuture(new StorageUnavailableException("not connected to NATS"));
        }
        return connection.requestWithTimeout("$JS.API.STREAM.INFO." + settings.streamName(), null, REQUEST_TIMEOUT)
                .thenApply(reply -> {
                    StreamInfo info = new StreamInfo(reply);
                    if (info.hasError()) {
                        throw new StorageException("events stream info: " + info.getError());
                    }
                    return info.getStreamState().getLastSequence();
                });
    }

    /** Deletes a read consumer; the answer is not waited for (it goes away by itself if this is lost). */
    private void deleteConsumerLater(String stream, String consumer) {
        if (isConnected()) {
            connection.requestWithTimeout("$JS.API.CONSUMER.DELETE." + stream + "." + consumer, null, REQUEST_TIMEOUT)
                    .exceptionally(lost -> null);
        }
    }

    private void checkStream() {
        if (!open) {
            return;
        }
        streamLastSequence().whenComplete((sequence, failure) -> {
            if (failure == null) {
                streamHealth = StorageHealth.WRITABLE;
            } else {
                Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
                streamHealth = StorageHealth.unwritable("the JetStream events stream does not answer ("
                        + cause.getClass().getSimpleName() + ")");
            }
        });
    }

    boolean isConnected() {
        return connection.getStatus() == Connection.Status.CONNECTED;
    }

    @Override
    public UserStore users() {
        return userStore;
    }

    @Override
    public EventLog events() {
        return eventLog;
    }

    @Override
    public EventFeed feed() {
        return feed;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Unwritable while the client is not connected to NATS, and while the events stream did not answer the last
     * check (they run every {@link #HEALTH_INTERVAL}): a connected client whose cluster lost its quorum.
     */
    @Override
    public StorageHealth health() {
        if (!open) {
            return StorageHealth.unwritable("storage is closed");
        }
        if (!isConnected()) {
            return StorageHealth.unwritable("not connected to NATS (" + connection.getStatus() + ")");
        }
        return streamHealth;
    }

    /**
     * Closes in this order: (1) refuse new work; (2) wait for every append in flight to be acknowledged or to fail;
     * (3) run the queued blocking calls and end their threads; (4) stop the feed and the user watch, fail whoever
     * waits for the feed; (5) close the connection. Idempotent; a concurrent second call waits for the first.
     */
    @Override
    public void close() {
        synchronized (lifecycleLock) {
            if (closeStarted) {
                return;
            }
            closeStarted = true;
            open = false;
            boolean drained = eventLog.awaitAppends(CLOSE_TIMEOUT);
            drained &= calls.shutdownAndAwait(CLOSE_TIMEOUT);
            healthChecks.shutdownNow();
            try {
                feedDispatcher.unsubscribe(feedSubscription);
                feedDispatcher.unsubscribe(userWatch);
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "close: unsubscribing", e); // the connection closes next all the same
            }
            feed.close();
            pushReads.close();
            closeQuietly(connection);
            if (!drained) {
                throw new StorageException("close: appends or NATS calls still under way after " + CLOSE_TIMEOUT);
            }
        }
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Client errors, logged without what the client would add: subjects and messages hold tenant and event names.
     */
    private static final class QuietErrors implements ErrorListener {
        @Override
        public void errorOccurred(Connection conn, String error) {
            // The server quotes subjects in its errors ("Permissions Violation for Publish to ..."): drop them.
            LOG.log(Level.WARNING, "NATS error: " + error.replaceAll("\"[^\"]*\"|'[^']*'", "\"...\""));
        }

        @Override
        public void exceptionOccurred(Connection conn, Exception exp) {
            LOG.log(Level.DEBUG, "NATS client exception: " + exp.getClass().getSimpleName());
        }

        @Override
        public void slowConsumerDetected(Connection conn, io.nats.client.Consumer consumer) {
            LOG.log(Level.WARNING, "NATS slow consumer: a subscription fell behind; the feed recreates its consumer");
        }
    }
}
