package dev.broker.storage.jetstream;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where and how {@link JetStreamStorage} keeps Broker's data in NATS JetStream.
 *
 * @param servers   {@code nats://} (or {@code tls://}) URLs of the NATS servers; the client reconnects to any of them
 * @param replicas  the replica count of the events stream and the users bucket (1 to 5; 3 for a 3-node cluster,
 *                  1 for a single development server)
 * @param prefix    start of the stream, subject and bucket names, so that several Broker clusters can share one
 *                  NATS: ASCII letters, digits, {@code -} and {@code _}
 * @param credsFile a NATS {@code .creds} file (user JWT and nkey seed) or a file holding just an nkey seed; null
 *                  for none
 * @param caFile    a PEM file of the CA certificates to trust for TLS to NATS; null for the JVM's default trust
 */
public record JetStreamSettings(List<String> servers, int replicas, String prefix, Path credsFile, Path caFile) {

    /** The names NATS accepts in stream and bucket names, and that need no escaping in subjects. */
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    public static final int MAX_REPLICAS = 5;

    public JetStreamSettings {
        servers = List.copyOf(Objects.requireNonNull(servers, "servers"));
        Objects.requireNonNull(prefix, "prefix");
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("at least one NATS server URL is needed");
        }
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("NATS replicas must be 1 to " + MAX_REPLICAS + ": " + replicas);
        }
        if (!PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("NATS prefix must be 1 to 32 ASCII letters, digits, '-' or '_': "
                    + prefix);
        }
    }

    /** The settings for one server with no credentials and no TLS: development and tests. */
    public static JetStreamSettings of(String server, int replicas, String prefix) {
        return new JetStreamSettings(List.of(server), replicas, prefix, null, null);
    }

    /** A user and password in a URL: {@code nats://user:pw@host} (user info ends at the last '@' before the host). */
    private static final Pattern USER_INFO = Pattern.compile("(://)[^/\\s,]*@");

    /** The server URLs for messages and logs, a user and password in them shown as {@code ***}. */
    public String serversForDisplay() {
        return masked(String.join(",", servers));
    }

    /** The text with every URL's user and password shown as {@code ***}: for messages that may quote a URL. */
    public static String masked(String text) {
        return text == null ? null : USER_INFO.matcher(text).replaceAll("$1***@");
    }

    /** The events stream: {@code <prefix>_events}. */
    String streamName() {
        return prefix + "_events";
    }

    /** The subjects of all events: {@code <prefix>.ev.>}. */
    String allEventsSubject() {
        return prefix + ".ev.>";
    }

    /** The subjects of one tenant's events. */
    String tenantSubjects(String tenant) {
        return prefix + ".ev." + SubjectTokens.encode(tenant) + ".*";
    }

    /** The subject of one event name of one tenant. */
    String eventSubject(String tenant, String name) {
        return prefix + ".ev." + SubjectTokens.encode(tenant) + "." + SubjectTokens.encode(name);
    }

    /** The users key-value bucket: {@code <prefix>_users}. */
    String usersBucket() {
        return prefix + "_users";
    }

    /** The stream behind the users bucket. */
    String usersStreamName() {
        return "KV_" + usersBucket();
    }
}
