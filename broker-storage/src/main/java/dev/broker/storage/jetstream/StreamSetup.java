package dev.broker.storage.jetstream;

import dev.broker.storage.StorageException;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds or creates the events stream and the users bucket, and refuses those Broker cannot work with: a stream with
 * other subjects, another retention than limits, memory storage, sealed or not acknowledging publishes; a bucket
 * in memory, whose values expire, with limits that drop users, or sealed. A replica count other than the configured
 * one is accepted with a warning: an operator may have scaled the stream with the NATS tools on purpose, and Broker
 * works with any count (its durability is then that of the actual count). Limits on the events stream (age, count,
 * bytes) are accepted with a warning too: JetStream then drops the oldest events, an operator's choice.
 */
final class StreamSetup {

    private static final System.Logger LOG = System.getLogger(StreamSetup.class.getName());
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RETRY_WAIT = Duration.ofMillis(250);

    /** What {@link #ensure} found: where the feeds start. */
    record Found(long eventsLastSequence, long usersLastRevision) {
    }

    private final Connection connection;
    private final JetStreamManagement management;
    private final JetStreamSettings settings;

    private StreamSetup(Connection connection, JetStreamSettings settings) throws IOException {
        this.connection = connection;
        this.management = connection.jetStreamManagement(jetStreamOptions());
        this.settings = settings;
    }

    static JetStreamOptions jetStreamOptions() {
        return JetStreamOptions.builder().requestTimeout(REQUEST_TIMEOUT).build();
    }

    /**
     * Ensures the stream and the bucket, retrying for up to {@code timeout} while JetStream does not answer (not yet
     * enabled, or a cluster still electing its leaders).
     *
     * @throws StorageException naming the problem for operators
     */
    static Found ensure(Connection connection, JetStreamSettings settings, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                StreamSetup setup = new StreamSetup(connection, settings);
                StreamInfo events = setup.ensureEventsStream();
                StreamInfo users = setup.ensureUsersBucket();
                return new Found(events.getStreamState().getLastSequence(), users.getStreamState().getLastSequence());
            } catch (JetStreamApiException e) {
                throw new StorageException("open: JetStream refused: " + e.getErrorDescription() + " (error "
                        + e.getApiErrorCode() + ")", e);
            } catch (IOException e) {
                // No responders or a timeout.
                if (System.nanoTime() > deadline) {
                    throw new StorageException("open: JetStream does not answer at " + settings.servers()
                            + " (is JetStream enabled, and a majority of the cluster up?): "
                            + JetStreamSettings.masked(e.getMessage()), e);
                }
                try {
                    Thread.sleep(RETRY_WAIT.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new StorageException("open: interrupted", interrupted);
                }
            }
        }
    }

    /** The events stream, created when missing; refuses one Broker cannot work with. */
    private StreamInfo ensureEventsStream() throws IOException, JetStreamApiException {
        String name = settings.streamName();
        StreamInfo info = streamInfoOrNull(name);
        if (info == null) {
            StreamConfiguration config = StreamConfiguration.builder()
                    .name(name)
                    .subjects(settings.allEventsSubject())
                    .retentionPolicy(RetentionPolicy.Limits)
                    .storageType(StorageType.File)
                    .discardPolicy(DiscardPolicy.Old)
                    .replicas(settings.replicas())
                    .description("Broker events: <prefix>.ev.<tenant>.<event name>; ids are sequences")
                    .build();
            try {
                return management.addStream(config);
            } catch (JetStreamApiException e) {
                // another server created it at the same moment: check what it made
                info = streamInfoOrNull(name);
                if (info == null) {
                    throw e;
                }
            }
        }
        StreamConfiguration config = info.getConfiguration();
        List<String> problems = new ArrayList<>();
        if (!config.getSubjects().equals(List.of(settings.allEventsSubject()))) {
            problems.add("its subjects are " + config.getSubjects() + ", not [" + settings.allEventsSubject() + "]");
        }
        if (config.getRetentionPolicy() != RetentionPolicy.Limits) {
            problems.add("its retention is " + config.getRetentionPolicy() + ", not limits");
        }
        if (config.getStorageType() != StorageType.File) {
            problems.add("its storage is " + config.getStorageType() + ", not file");
        }
        if (config.getSealed()) {
            problems.add("it is sealed");
        }
        if (config.getNoAck()) {
            problems.add("it does not acknowledge publishes");
        }
        refuseOrWarn("events stream " + name, problems, config.getReplicas());
        if (config.getMaxAge().toMillis() > 0 || config.getMaxMsgs() > 0 || config.getMaxBytes() > 0
                || config.getMaxMsgsPerSubject() > 0) {
            LOG.log(Level.WARNING, "events stream " + name + " has limits: JetStream drops old events past them, "
                    + "so Last-Event-ID resumes and snapshots may miss them");
        }
        return info;
    }

    /** The users bucket, created when missing; refuses one Broker cannot work with. */
    private StreamInfo ensureUsersBucket() throws IOException, JetStreamApiException {
        StreamInfo info = streamInfoOrNull(settings.usersStreamName());
        if (info == null) {
            KeyValueConfiguration config = KeyValueConfiguration.builder()
                    .name(settings.usersBucket())
                    .description("Broker users: key = username token, value = id, tenant, hash, revoked")
                    .maxHistoryPerKey(1)
                    .storageType(StorageType.File)
                    .replicas(settings.replicas())
                    .build();
            try {
                connection.keyValueManagement().create(config);
                return management.getStreamInfo(settings.usersStreamName());
            } catch (JetStreamApiException e) {
                info = streamInfoOrNull(settings.usersStreamName());
                if (info == null) {
                    throw e;
                }
            }
        }
        StreamConfiguration config = info.getConfiguration();
        List<String> problems = new ArrayList<>();
        if (config.getStorageType() != StorageType.File) {
            problems.add("its storage is " + config.getStorageType() + ", not file");
        }
        if (config.getMaxAge().toMillis() > 0) {
            problems.add("its values expire (TTL " + config.getMaxAge() + ")");
        }
        if (config.getMaxMsgsPerSubject() == 0 || config.getMaxMsgs() > 0 || config.getMaxBytes() > 0) {
            problems.add("it has limits that would drop users");
        }
        if (config.getSealed()) {
            problems.add("it is sealed");
        }
        refuseOrWarn("users bucket " + settings.usersBucket(), problems, config.getReplicas());
        return info;
    }

    private void refuseOrWarn(String what, List<String> problems, int replicas) {
        if (!problems.isEmpty()) {
            throw new StorageException("open: the NATS " + what + " exists with settings Broker cannot work with: "
                    + String.join("; ", problems) + ". Use another prefix, or remove it with the NATS tools.");
        }
        if (replicas != settings.replicas()) {
            LOG.log(Level.WARNING, "the NATS " + what + " has " + replicas + " replicas, not the configured "
                    + settings.replicas() + "; keeping its " + replicas);
        }
    }

    private StreamInfo streamInfoOrNull(String name) throws IOException, JetStreamApiException {
        try {
            return management.getStreamInfo(name);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == JetStreamErrors.STREAM_NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }
}
