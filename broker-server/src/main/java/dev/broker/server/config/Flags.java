package dev.broker.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every flag of Broker, each declared once: name, placeholder, the values it accepts, default, meaning, and whether
 * it is secret or advanced. The command line, the environment, the configuration file, {@code --help},
 * {@link ConfigLoader#describe} and {@link BrokerConfig} all follow from these declarations, in this order; a new
 * flag is one declaration here plus its use ({@code config.get(Flags.NEW_FLAG)}).
 */
public final class Flags {

    public static final String DEFAULT_ADMIN_TOKEN = "letmein";
    public static final String DEFAULT_JWT_SECRET = "secret";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_SECURE_PORT = 443;
    /** Let's Encrypt's production ACME directory. */
    public static final String LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";
    /** The value of {@link #HTTP_PORT} that turns the plain-HTTP listener off: the default, except with a domain. */
    public static final int HTTP_PORT_OFF = -1;
    /** The plain-HTTP port opened by default with {@link #DOMAIN}: ACME's HTTP-01 challenges arrive on 80. */
    public static final int ACME_HTTP_PORT = 80;
    /** Largest {@link #MAX_BODY} accepted: 64 MiB. */
    public static final int MAX_BODY_LIMIT = 64 * 1024 * 1024;
    /** Largest {@link #JWT_EXPIRY} accepted: 100 years, far below any overflow of {@code now + expiry}. */
    public static final long MAX_JWT_EXPIRY_SECONDS = 100L * 365 * 24 * 3600;
    /** Longest {@link #NATS_PREFIX}: stream and bucket names built from it stay well inside NATS's limits. */
    public static final int NATS_PREFIX_MAX_LENGTH = 32;

    /** Longest {@link #RETENTION} accepted: 100 years. */
    public static final Duration MAX_RETENTION = Duration.ofDays(36_500);

    /** Filled by {@link #declare}, in declaration order; declared before the flags, so it exists when they are. */
    private static final List<Flag<?>> DECLARED = new ArrayList<>();

    public static final Flag<String> ORIGIN = declare(
            Flag.token("origin", "VALUE", "* or a single origin such as https://app.example.com")
                    .defaultValue("*")
                    .meaning("value of Access-Control-Allow-Origin (CORS); * allows any origin"));

    // Port 443 is the default only where HTTPS is served.
    public static final Flag<Integer> PORT = declare(
            Flag.integer("port", "PORT", 0, 65_535)
                    .defaultValue(DEFAULT_PORT)
                    .unsetDefault(c -> c.get(Flags.SECURE) ? DEFAULT_SECURE_PORT : DEFAULT_PORT,
                            DEFAULT_PORT + " (" + DEFAULT_SECURE_PORT + " with --secure)")
                    .meaning("TCP port to listen on, 0..65535; 0 picks a free port"));

    public static final Flag<String> BIND = declare(
            Flag.token("bind", "ADDRESS", "an IP address or host name such as 0.0.0.0 or ::")
                    .defaultValue("0.0.0.0")
                    .meaning("address to listen on; 0.0.0.0 is every IPv4 interface, 127.0.0.1 only this machine"));

    public static final Flag<Boolean> SECURE = declare(
            Flag.bool("secure")
                    .defaultValue(false)
                    .meaning("serve HTTPS (TLS) instead of plain HTTP; --secure alone means true"));

    public static final Flag<String> DOMAIN = declare(
            Flag.domain("domain", "NAME")
                    .meaning("domain to obtain and renew a Let's Encrypt certificate for (with --secure)"));

    public static final Flag<Path> CERTS = declare(
            Flag.path("certs", "DIR")
                    .defaultValue(Path.of("certs"))
                    .meaning("directory of TLS material: ACME account and certificates, or your own cert.pem +"
                            + " key.pem"));

    public static final Flag<List<String>> TLS_GROUPS = declare(
            Flag.nameList("tls_groups", "GROUPS")
                    .meaning("key-exchange groups TLS may use, most preferred first (e.g. X25519,P-256); none means"
                            + " the TLS library's own order, which with OpenSSL (BoringSSL) prefers the post-quantum"
                            + " hybrid X25519MLKEM768 when a client offers it; names: X25519MLKEM768, X25519, P-256,"
                            + " P-384, P-521"));

    public static final Flag<String> ACME_DIRECTORY = declare(
            Flag.url("acme_directory", "URL", LETS_ENCRYPT_DIRECTORY)
                    .defaultValue(LETS_ENCRYPT_DIRECTORY)
                    .meaning("ACME directory that --domain certificates come from (Let's Encrypt staging, another"
                            + " CA, a test server)"));

    public static final Flag<Path> ACME_TRUST = declare(
            Flag.optionalPath("acme_trust", "FILE")
                    .meaning("PEM file of CA certificates to check the ACME directory's HTTPS against instead of"
                            + " the JVM's"));

    // Port 80 is opened by default only where it is needed: for ACME HTTP-01 challenges with --domain.
    public static final Flag<Integer> HTTP_PORT = declare(
            Flag.integer("http_port", "PORT", HTTP_PORT_OFF, 65_535)
                    .defaultValue(HTTP_PORT_OFF)
                    .unsetDefault(c -> c.get(Flags.DOMAIN) != null ? ACME_HTTP_PORT : HTTP_PORT_OFF,
                            HTTP_PORT_OFF + " (off; " + ACME_HTTP_PORT + " with --domain)")
                    .format(v -> v == HTTP_PORT_OFF ? v + " (off)" : Integer.toString(v))
                    .meaning("with --secure: plain-HTTP port for ACME HTTP-01 challenges and redirects to HTTPS;"
                            + " -1 turns it off"));

    public static final Flag<Path> DB = declare(
            Flag.path("db", "DIR")
                    .defaultValue(Path.of("db"))
                    .meaning("directory of the embedded database"));

    // --- backups and retention of the embedded database.

    public static final Flag<Path> BACKUP_DIR = declare(
            Flag.path("backup_dir", "DIR")
                    .defaultValue(Path.of("backups"))
                    .meaning("directory POST /backup writes its timestamped backups into (created when missing)"));

    public static final Flag<Duration> RETENTION = declare(
            Flag.duration("retention", "DURATION", MAX_RETENTION)
                    .defaultValue(Duration.ZERO)
                    .format(v -> v.isZero() ? "0 (keep every event)" : Flag.formatDuration(v))
                    .meaning("how long events are kept, e.g. 30d, 12h, 90m; older ones are removed in the background"
                            + " except the latest event of every name. 0 keeps every event"));

    public static final Flag<String> ADMIN_TOKEN = declare(
            Flag.secret("admin_token", "TOKEN")
                    .defaultValue(DEFAULT_ADMIN_TOKEN)
                    .meaning("secret that gates the user-management endpoints; prefer the environment to the"
                            + " command line"));

    public static final Flag<String> JWT_SECRET = declare(
            Flag.secret("jwt_secret", "SECRET")
                    .defaultValue(DEFAULT_JWT_SECRET)
                    .meaning("HS256 key, the UTF-8 bytes of this string; use 32 or more random bytes"));

    public static final Flag<Long> JWT_EXPIRY = declare(
            Flag.longInteger("jwt_expiry", "SECONDS", 1, MAX_JWT_EXPIRY_SECONDS)
                    .defaultValue(86_400L)
                    .meaning("lifetime of issued JWTs, in seconds (at least 1)"));

    public static final Flag<Integer> HEARTBEAT = declare(
            Flag.integer("heartbeat", "SECONDS", 0, Integer.MAX_VALUE)
                    .defaultValue(30)
                    .meaning("seconds between SSE heartbeat comments; 0 turns them off"));

    public static final Flag<Integer> MAX_BODY = declare(
            Flag.integer("max_body", "BYTES", 1, MAX_BODY_LIMIT)
                    .defaultValue(1024 * 1024)
                    .meaning("largest accepted request body in bytes, 1..67108864 (64 MiB); larger gets 413"));

    // --- a cluster: many Broker servers sharing one NATS JetStream instead of the embedded database.

    public static final Flag<List<String>> NATS = declare(
            Flag.natsUrls("nats", "URLS")
                    .meaning("comma-separated NATS server URLs (nats://h1:4222,nats://h2:4222): keep events and users"
                            + " in NATS JetStream, shared with every Broker server using the same NATS and prefix,"
                            + " instead of the embedded database (--db is then not used); none means embedded"));

    public static final Flag<Integer> NATS_REPLICAS = declare(
            Flag.integer("nats_replicas", "COUNT", 1, 5)
                    .defaultValue(3)
                    .meaning("with --nats: replicas of the JetStream stream and key-value bucket, 1..5; an insert"
                            + " is answered once a majority of them stored it (1 for a single NATS server)"));

    public static final Flag<String> NATS_PREFIX = declare(
            Flag.simpleName("nats_prefix", "NAME", NATS_PREFIX_MAX_LENGTH)
                    .defaultValue("broker")
                    .meaning("with --nats: first part of the stream, subject and bucket names, so that several"
                            + " Broker clusters can share one NATS; letters, digits, '-' and '_'"));

    public static final Flag<Path> NATS_CREDS = declare(
            Flag.optionalPath("nats_creds", "FILE")
                    .meaning("with --nats: NATS credentials file (a user JWT and nkey seed, as nsc writes it) or an"
                            + " nkey seed file"));

    public static final Flag<Path> NATS_CA = declare(
            Flag.optionalPath("nats_ca", "FILE")
                    .meaning("with --nats: PEM file of the CA certificate(s) to check the NATS servers' TLS against"
                            + " instead of the JVM's (use tls:// URLs)"));

    // --- limits: what one client, or many, may hold of the server.

    public static final Flag<Integer> MAX_CONNECTIONS = declare(
            Flag.integer("max_connections", "COUNT", 0, Integer.MAX_VALUE)
                    .defaultValue(0)
                    .format(v -> v == 0 ? "0 (derived from the open-files limit)" : Integer.toString(v))
                    .meaning("open connections at most; one more is refused at once. 0 derives it: the open-files"
                            + " limit minus a reserve of 1000 or 10 % (the larger, at most half) for the store,"
                            + " logs and listening sockets"));

    public static final Flag<Integer> MAX_CONNECTIONS_PER_IP = declare(
            Flag.integer("max_connections_per_ip", "COUNT", 0, Integer.MAX_VALUE)
                    .defaultValue(1000)
                    .format(v -> v == 0 ? "0 (no limit)" : Integer.toString(v))
                    .meaning("open connections one client address (an IPv6 /64) may hold; 0 means no limit (set it"
                            + " so behind a local reverse proxy)"));

    public static final Flag<Integer> REQUEST_TIMEOUT = declare(
            Flag.integer("request_timeout", "SECONDS", 1, 3600)
                    .defaultValue(30)
                    .meaning("seconds from a request's first byte until the whole request (head and body) must have"
                            + " arrived; later is a 408 and a close"));

    public static final Flag<Integer> AUTH_FAILURES_PER_USER = declare(
            Flag.integer("auth_failures_per_user", "PER_MINUTE", 0, 1_000_000)
                    .defaultValue(10)
                    .format(v -> v == 0 ? "0 (no limit)" : Integer.toString(v))
                    .meaning("failed password checks per username per minute (a burst of as many, then one every"
                            + " 60/N s); more is a 429 without hashing. 0 means no limit"));

    public static final Flag<Integer> AUTH_FAILURES_PER_IP = declare(
            Flag.integer("auth_failures_per_ip", "PER_MINUTE", 0, 1_000_000)
                    .defaultValue(60)
                    .format(v -> v == 0 ? "0 (no limit)" : Integer.toString(v))
                    .meaning("failed password checks per client address (an IPv6 /64) per minute; more is a 429"
                            + " without hashing. 0 means no limit"));

    public static final Flag<Integer> HASH_QUEUE = declare(
            Flag.integer("hash_queue", "COUNT", 1, 1_000_000)
                    .defaultValue(32)
                    .meaning("password checks that may wait for a hashing thread, in each of two lanes (usernames and"
                            + " addresses without a failure in the last minute go first); one more is a 503"));

    // --- operating: metrics and logs.

    public static final Flag<Boolean> METRICS_PUBLIC = declare(
            Flag.bool("metrics_public")
                    .defaultValue(false)
                    .meaning("serve GET /metrics to anyone; by default it needs Authorization: Bearer <admin_token>"));

    public static final Flag<String> LOG_FORMAT = declare(
            Flag.choice("log_format", "FORMAT", List.of("text", "json"))
                    .defaultValue("text")
                    .meaning("text: one readable line per log event; json: one JSON object per line (ts, level,"
                            + " logger, event, msg, fields, error)"));

    public static final Flag<Path> ACCESS_LOG = declare(
            Flag.optionalPath("access_log", "FILE")
                    .meaning("write one line per request (method, route path without query string, status, duration,"
                            + " bytes, client address) to FILE, or to the log with -; off when unset"));

    // --- users: the bounded cache that authentication reads users through.

    public static final Flag<Integer> USER_CACHE = declare(
            Flag.integer("user_cache", "USERS", 1, 100_000_000)
                    .defaultValue(100_000)
                    .meaning("users held in memory for authentication (about 0.5 KB each); others are read from the"
                            + " store when they next authenticate"));

    // --- advanced: the SSE fan-out and its snapshot caches. The defaults are what the benchmarks were run with.

    public static final Flag<Integer> SSE_DRAIN_INTERVAL_MS = declare(
            Flag.integer("sse_drain_interval_ms", "MILLIS", 0, 10_000)
                    .defaultValue(50)
                    .meaning("at most one drain of a loop's inbox per interval, 0..10000; the events of an interval"
                            + " leave together")
                    .advanced());

    public static final Flag<Integer> SSE_FAN_OUT_CHUNK = declare(
            Flag.integer("sse_fan_out_chunk", "STREAMS", 1, 1_000_000)
                    .defaultValue(1024)
                    .meaning("streams written per fan-out task, 1..1000000; the rest follows after the loop's next"
                            + " I/O pass")
                    .advanced());

    public static final Flag<Integer> SNAPSHOT_CACHE_NAMES = declare(
            Flag.integer("snapshot_cache_names", "COUNT", 0, 1_000_000)
                    .defaultValue(1024)
                    .meaning("a tenant with more event names than this gets no snapshot cache, 0..1000000")
                    .advanced());

    public static final Flag<Integer> SNAPSHOT_CACHE_BYTES = declare(
            Flag.integer("snapshot_cache_bytes", "BYTES", 0, 1 << 30)
                    .defaultValue(1024 * 1024)
                    .meaning("a tenant whose snapshot takes more bytes than this gets no snapshot cache,"
                            + " 0..1073741824 (1 GiB)")
                    .advanced());

    public static final Flag<Long> SNAPSHOT_CACHE_LOOP_BYTES = declare(
            Flag.longInteger("snapshot_cache_loop_bytes", "BYTES", 0, 1L << 40)
                    .defaultValue(64L * 1024 * 1024)
                    .meaning("bytes the snapshot caches of one event loop may hold together,"
                            + " 0..1099511627776 (1 TiB)")
                    .advanced());

    public static final Flag<Integer> SNAPSHOT_LINGER_MS = declare(
            Flag.integer("snapshot_linger_ms", "MILLIS", 0, 86_400_000)
                    .defaultValue(30_000)
                    .meaning("milliseconds a tenant's snapshot cache outlives its last stream on a loop,"
                            + " 0..86400000 (a day)")
                    .advanced());

    public static final Flag<Long> SSE_HISTORY_BUDGET_BYTES = declare(
            Flag.longInteger("sse_history_budget_bytes", "BYTES", 0, 1L << 40)
                    .defaultValue(64L * 1024 * 1024)
                    .meaning("bytes of events that the store reads of SSE history (snapshots too large to cache,"
                            + " Last-Event-ID replays) may hold together; past it new streams wait for their history,"
                            + " 0..1099511627776 (1 TiB)")
                    .advanced());

    private static final List<Flag<?>> ALL = List.copyOf(DECLARED);

    private Flags() {
    }

    private static <T> Flag<T> declare(Flag.Builder<T> declaration) {
        Flag<T> flag = declaration.build();
        if (byName(flag.name()).isPresent()) {
            throw new IllegalStateException("flag declared twice: " + flag.name());
        }
        DECLARED.add(flag);
        return flag;
    }

    /** Every flag, in declaration order. */
    public static List<Flag<?>> all() {
        return ALL;
    }

    /** The flag whose name is exactly {@code name} (no dashes). */
    public static Optional<Flag<?>> byName(String name) {
        for (Flag<?> flag : DECLARED) {
            if (flag.name().equals(name)) {
                return Optional.of(flag);
            }
        }
        return Optional.empty();
    }
}
