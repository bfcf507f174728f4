package dev.broker.server;

import static dev.broker.server.config.Flags.ACCESS_LOG;
import static dev.broker.server.config.Flags.ADMIN_TOKEN;
import static dev.broker.server.config.Flags.AUTH_FAILURES_PER_IP;
import static dev.broker.server.config.Flags.AUTH_FAILURES_PER_USER;
import static dev.broker.server.config.Flags.BACKUP_DIR;
import static dev.broker.server.config.Flags.BIND;
import static dev.broker.server.config.Flags.DB;
import static dev.broker.server.config.Flags.HASH_QUEUE;
import static dev.broker.server.config.Flags.HEARTBEAT;
import static dev.broker.server.config.Flags.JWT_EXPIRY;
import static dev.broker.server.config.Flags.JWT_SECRET;
import static dev.broker.server.config.Flags.LOG_FORMAT;
import static dev.broker.server.config.Flags.MAX_BODY;
import static dev.broker.server.config.Flags.MAX_CONNECTIONS;
import static dev.broker.server.config.Flags.MAX_CONNECTIONS_PER_IP;
import static dev.broker.server.config.Flags.METRICS_PUBLIC;
import static dev.broker.server.config.Flags.NATS;
import static dev.broker.server.config.Flags.NATS_CA;
import static dev.broker.server.config.Flags.NATS_CREDS;
import static dev.broker.server.config.Flags.NATS_PREFIX;
import static dev.broker.server.config.Flags.NATS_REPLICAS;
import static dev.broker.server.config.Flags.ORIGIN;
import static dev.broker.server.config.Flags.PORT;
import static dev.broker.server.config.Flags.REQUEST_TIMEOUT;
import static dev.broker.server.config.Flags.RETENTION;
import static dev.broker.server.config.Flags.SECURE;
import static dev.broker.server.config.Flags.SNAPSHOT_CACHE_BYTES;
import static dev.broker.server.config.Flags.SNAPSHOT_CACHE_LOOP_BYTES;
import static dev.broker.server.config.Flags.SNAPSHOT_CACHE_NAMES;
import static dev.broker.server.config.Flags.SNAPSHOT_LINGER_MS;
import static dev.broker.server.config.Flags.SSE_DRAIN_INTERVAL_MS;
import static dev.broker.server.config.Flags.SSE_FAN_OUT_CHUNK;
import static dev.broker.server.config.Flags.SSE_HISTORY_BUDGET_BYTES;
import static dev.broker.server.config.Flags.USER_CACHE;

import dev.broker.server.admin.AdminEndpoints;
import dev.broker.server.admin.BackupEndpoint;
import dev.broker.server.admin.AdminStats;
import dev.broker.server.admin.UserChanges;
import dev.broker.server.api.ApiHandler;
import dev.broker.server.api.AuthHandler;
import dev.broker.server.api.Endpoint;
import dev.broker.server.api.InsertEndpoint;
import dev.broker.server.api.Route;
import dev.broker.server.api.RouteHandler;
import dev.broker.server.api.SessionEndpoints;
import dev.broker.server.api.SseEndpoint;
import dev.broker.server.auth.AuthFailures;
import dev.broker.server.auth.AuthThrottle;
import dev.broker.server.auth.Authenticator;
import dev.broker.server.auth.BasicCredentialCache;
import dev.broker.server.auth.HashWorkers;
import dev.broker.server.auth.JwtTokens;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.Principal;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.config.BrokerConfig;
import dev.broker.server.console.ConsoleEndpoint;
import dev.broker.server.console.ConsoleFiles;
import dev.broker.server.http.Exchange;
import dev.broker.server.http.ExchangeListener;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.ResponseSlot;
import dev.broker.server.logging.AccessLog;
import dev.broker.server.logging.OperatorLog;
import dev.broker.server.logging.OperatorReport;
import dev.broker.server.metrics.BrokerMetrics;
import dev.broker.server.metrics.MetricsEndpoint;
import dev.broker.server.pipeline.BrokerChannelInitializer;
import dev.broker.server.pipeline.ConnectionLimits;
import dev.broker.server.sse.SseHub;
import dev.broker.server.sse.SseSettings;
import dev.broker.server.sse.SseStats;
import dev.broker.server.tls.TlsService;
import dev.broker.storage.Storage;
import dev.broker.storage.StorageHealth;
import dev.broker.storage.User;
import dev.broker.storage.jetstream.JetStreamSettings;
import dev.broker.storage.jetstream.JetStreamStorage;
import dev.broker.storage.rocksdb.RocksStorage;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContext;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A running Broker: storage, the event loops, the listening socket and everything between them.
 * {@link #start} returns once the port is bound; {@link #close} shuts down gracefully.
 */
public final class BrokerServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BrokerServer.class.getName());

    /** Unsent bytes above which a stream is a slow consumer (and is closed); below the low mark it may write again. */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);
    /** How long shutdown waits for requests under way (an insert being made durable) before closing anyway. */
    static final long DRAIN_SECONDS = 10;

    private final Storage storage;
    private final HashWorkers hashing;
    private final EventLoopGroup group;
    /** Accepts connections and nothing else: a loop busy with its own connections would accept late. */
    private final EventLoopGroup acceptor;
    private final SseHub hub;
    private final AutoCloseable feedSubscription;
    private final AutoCloseable userSubscription;
    private final InFlightRequests inFlight;
    private final Channel serverChannel;
    private final TlsService tls;
    private final Observability observability;
    private final AtomicBoolean closed = new AtomicBoolean();

    private BrokerServer(Storage storage, HashWorkers hashing, EventLoopGroup group, EventLoopGroup acceptor,
                         SseHub hub, AutoCloseable feedSubscription, AutoCloseable userSubscription,
                         InFlightRequests inFlight, Channel serverChannel, TlsService tls, Observability observability) {
        this.observability = observability;
        this.storage = storage;
        this.hashing = hashing;
        this.group = group;
        this.acceptor = acceptor;
        this.hub = hub;
        this.feedSubscription = feedSubscription;
        this.userSubscription = userSubscription;
        this.inFlight = inFlight;
        this.serverChannel = serverChannel;
        this.tls = tls;
    }

    /**
     * Opens the storage backend the configuration names: the one place that picks a backend, for the server and
     * for the command-line tools alike. Throws if it cannot be opened (nothing is left open).
     */
    public static Storage openStorage(BrokerConfig config) {
        List<String> nats = config.get(NATS);
        if (nats == null) {
            return RocksStorage.open(config.get(DB),
                    new RocksStorage.Settings(config.get(RETENTION), Clock.systemUTC()));
        }
        // The URLs are not logged: they may carry a user and password.
        LOG.log(Level.INFO, "storage: NATS JetStream ({0} server URLs, prefix {1}, {2} replicas)", nats.size(),
                config.get(NATS_PREFIX), config.get(NATS_REPLICAS));
        return JetStreamStorage.open(new JetStreamSettings(nats, config.get(NATS_REPLICAS), config.get(NATS_PREFIX),
                config.get(NATS_CREDS), config.get(NATS_CA)));
    }

    /** Opens the database, binds the port and starts serving. Throws if any of it fails (nothing is left open). */
    public static BrokerServer start(BrokerConfig config) {
        TlsService tls = config.get(SECURE) ? TlsService.prepare(config) : null;
        Storage storage = openStorage(config);
        int cores = Runtime.getRuntime().availableProcessors();
        HashWorkers hashing = new HashWorkers(cores, config.get(HASH_QUEUE));
        Transport transport = Transport.best();
        EventLoopGroup group = transport.newGroup(cores);
        // One thread of its own for accepting: on a loop that also serves connections, a flood of busy connections
        // delayed the accept of a new one by 1 to 7 s (measured during a flood of password guesses).
        EventLoopGroup acceptor = transport.newGroup(1, "broker-accept");
        Observability observability = null;
        AutoCloseable userSubscription = null;
        try {
            BasicCredentialCache basicCache = new BasicCredentialCache();
            // Every stored change of a user, made through this server or another sharing the store, reaches the
            // directory, the credential cache and the streams. Subscribed before the directory exists, so that no
            // change stored meanwhile is missed.
            UserChanges userChanges = new UserChanges(basicCache, group);
            userSubscription = storage.users().changes().subscribe(userChanges);
            UserDirectory directory = new UserDirectory(storage.users(), config.get(USER_CACHE));
            SseHub hub = new SseHub(group, ByteBufAllocator.DEFAULT, storage.events(), sseSettings(config),
                    principal -> mayStream(directory, principal));
            userChanges.attach(directory, hub);
            PasswordHasher hasher = new PasswordHasher(hashing);
            JwtTokens tokens = new JwtTokens(config.get(JWT_SECRET), config.get(JWT_EXPIRY));
            AuthThrottle throttle = new AuthThrottle(config.get(AUTH_FAILURES_PER_USER), config.get(AUTH_FAILURES_PER_IP));
            AutoCloseable feedSubscription = storage.feed().subscribe(hub);
            AuthFailures authFailures = new AuthFailures();
            BrokerMetrics metrics = new BrokerMetrics();
            storage.observeCommits(metrics);

            AdminEndpoints admin = new AdminEndpoints(config.get(ADMIN_TOKEN), storage.users(), directory, hasher,
                    userChanges, authFailures);
            SessionEndpoints sessions = new SessionEndpoints(directory, hasher, tokens, throttle, authFailures);
            Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
            endpoints.put(Route.CREATE_USER, admin::createUser);
            endpoints.put(Route.REVOKE_USER, admin::revokeUser);
            endpoints.put(Route.UNREVOKE_USER, admin::unrevokeUser);
            endpoints.put(Route.LIST_USERS, admin::listUsers);
            endpoints.put(Route.GET_USER, admin::getUser);
            endpoints.put(Route.LOGIN, sessions::login);
            endpoints.put(Route.VERIFY, sessions::verify);
            endpoints.put(Route.INSERT, new InsertEndpoint(storage.events()));
            endpoints.put(Route.SSE, new SseEndpoint(hub, storage.events(), storage.feed()::caughtUp));
            endpoints.put(Route.HEALTHZ, (ctx, request) -> healthz(storage, ctx, request.slot()));
            endpoints.put(Route.BACKUP, new BackupEndpoint(config.get(ADMIN_TOKEN), storage, config.get(BACKUP_DIR),
                    Clock.systemUTC()));
            // The console and its admin endpoints (Authorization: Bearer <admin token>, checked by AuthHandler).
            endpoints.put(Route.ADMIN_SSE, endpoints.get(Route.SSE));
            endpoints.put(Route.ADMIN_INSERT, endpoints.get(Route.INSERT));
            endpoints.put(Route.ADMIN_STATS, new AdminStats(hub, group.next()));
            endpoints.put(Route.CONSOLE, new ConsoleEndpoint(ConsoleFiles.load()));
            MetricsEndpoint metricsEndpoint = new MetricsEndpoint(metrics, config.get(ADMIN_TOKEN),
                    config.get(METRICS_PUBLIC), authFailures);
            endpoints.put(Route.METRICS, metricsEndpoint);

            InFlightRequests inFlight = new InFlightRequests();
            Supplier<SslContext> sslContexts = tls == null ? null : tls::currentContext;
            ConnectionLimits limits = connectionLimits(config);
            Path accessLogTarget = config.get(ACCESS_LOG);
            AccessLog accessLog = accessLogTarget == null ? null
                    : AccessLog.open(accessLogTarget, config.get(LOG_FORMAT));
            observability = new Observability(metricsEndpoint, accessLog, new OperatorReport());
            registerMetrics(metrics, hub.stats(), authFailures, limits, admin, accessLog);
            reportInAggregate(observability.report, metrics, hub.stats(), admin, accessLog).start();
            BrokerChannelInitializer initializer = new BrokerChannelInitializer(sslContexts, limits,
                    config.get(REQUEST_TIMEOUT), config.get(ORIGIN), config.get(MAX_BODY), inFlight,
                    new RouteHandler(),
                    new AuthHandler(new Authenticator(tokens, directory, hasher, basicCache, throttle),
                            config.get(ADMIN_TOKEN), authFailures),
                    new ApiHandler(endpoints), exchangeListener(metrics, accessLog), routesByPath());
            Channel serverChannel = new ServerBootstrap()
                    .group(acceptor, group)
                    .channel(transport.serverChannelClass())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    .childHandler(initializer)
                    .bind(new InetSocketAddress(config.get(BIND), config.get(PORT)))
                    .syncUninterruptibly()
                    .channel();
            if (tls != null) {
                tls.start(group, transport.serverChannelClass(), ((InetSocketAddress) serverChannel.localAddress()).getPort());
            }
            int port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
            String scheme = config.get(SECURE) ? "https" : "http";
            OperatorLog.info("listening", "Broker listening on " + config.get(BIND) + ":" + port + " (" + scheme + ", "
                    + transport.name() + ")", "bind", config.get(BIND), "port", port, "scheme", scheme,
                    "transport", transport.name());
            return new BrokerServer(storage, hashing, group, acceptor, hub, feedSubscription, userSubscription, inFlight,
                    serverChannel, tls, observability);
        } catch (RuntimeException | Error e) {
            closeQuietly(observability);
            closeQuietly(userSubscription);
            cleanUpFailedStart(tls, group, acceptor, hashing, storage);
            throw e;
        } catch (Exception e) {
            // Netty rethrows a failed bind's checked NativeIoException ("Address already in use") undeclared.
            closeQuietly(observability);
            closeQuietly(userSubscription);
            cleanUpFailedStart(tls, group, acceptor, hashing, storage);
            throw new IllegalStateException("cannot listen on " + config.get(BIND) + ":" + config.get(PORT) + ": "
                    + e.getMessage(), e);
        }
    }

    /** What the server runs for metrics and logs, closed with it. */
    private record Observability(MetricsEndpoint metricsEndpoint, AccessLog accessLog, OperatorReport report)
            implements AutoCloseable {
        @Override
        public void close() {
            report.close();
            metricsEndpoint.close();
            if (accessLog != null) {
                accessLog.close();
            }
        }
    }

    private static void closeQuietly(Observability observability) {
        if (observability != null) {
            observability.close();
        }
    }

    /** Each route's path to its name: the labels of the response metrics and the paths of the access log. */
    static Map<String, String> routesByPath() {
        Map<String, String> routes = new HashMap<>();
        for (Route route : Route.values()) {
            routes.put(route.path(), route.name());
        }
        return routes;
    }

    /** Every answer to the response metrics; finished exchanges to the access log, if there is one. */
    private static ExchangeListener exchangeListener(BrokerMetrics metrics, AccessLog accessLog) {
        return new ExchangeListener() {
            @Override
            public void answered(String route, int status) {
                metrics.responded(route, status);
            }

            @Override
            public boolean wantsExchanges() {
                return accessLog != null;
            }

            @Override
            public void completed(Exchange exchange) {
                accessLog.log(exchange);
            }
        };
    }

    /**
     * The server's figures, read at scrape time from where they are counted (none of those places knows
     * Prometheus). No label names a user, tenant or address.
     */
    private static void registerMetrics(BrokerMetrics metrics, SseStats sse, AuthFailures authFailures,
                                        ConnectionLimits limits, AdminEndpoints admin, AccessLog accessLog) {
        metrics.gauge("broker_sse_streams", "SSE streams open now", sse::openStreams);
        metrics.counter("broker_deliveries_total", "Live events written to SSE streams, once per event and stream",
                sse::deliveries);
        metrics.counter("broker_delivered_bytes_total", "Bytes of the live events written to SSE streams",
                sse::deliveredBytes);
        metrics.counter("broker_slow_consumer_closes_total", "SSE streams closed because they could not keep up",
                sse::slowConsumerCloses);
        metrics.counter("broker_sse_history_failures_total",
                "SSE streams closed because their history could not be read", sse::historyFailures);
        metrics.counter("broker_snapshot_cache_hits_total",
                "New SSE streams whose snapshot came from their event loop's cache", sse::snapshotCacheHits);
        metrics.counter("broker_snapshot_cache_misses_total",
                "New SSE streams whose snapshot waited for a cache fill or a store read", sse::snapshotCacheMisses);
        Map<String, AuthFailures.Kind> kinds = new HashMap<>();
        for (AuthFailures.Kind kind : AuthFailures.Kind.values()) {
            kinds.put(kind.label(), kind);
        }
        metrics.counter("broker_auth_failures_total", "Failed authentications by kind", "kind", kinds,
                authFailures::count);
        metrics.gauge("broker_connections", "Connections open now", limits::open);
        metrics.gauge("broker_connections_max", "The cap on open connections (--max_connections)", limits::max);
        metrics.counter("broker_connections_refused_total", "Connections refused at a connection cap",
                limits::refusedTotal);
        metrics.counter("broker_revocations_total", "Users revoked (each revoke_user answered 200)",
                admin::revocations);
        if (accessLog != null) {
            metrics.counter("broker_access_log_dropped_total", "Access log lines dropped: the writer fell behind",
                    accessLog::dropped);
        }
    }

    /** What the operator log reports in aggregate, every few seconds while it happens. */
    private static OperatorReport reportInAggregate(OperatorReport report, BrokerMetrics metrics, SseStats sse,
                                                    AdminEndpoints admin, AccessLog accessLog) {
        report.add("slow_consumers_closed", Level.INFO, sse::slowConsumerCloses,
                        n -> "closed " + n + " slow SSE consumer(s)")
                .add("sse_history_failed", Level.WARNING, sse::historyFailures,
                        n -> "closed " + n + " SSE stream(s) whose history could not be read (see storage)")
                .add("users_revoked", Level.INFO, admin::revocations, n -> "revoked " + n + " user(s)")
                .add("requests_timed_out", Level.INFO, () -> metrics.limitResponses(408),
                        n -> "answered " + n + " request(s) that did not arrive within --request_timeout with 408")
                .add("bodies_too_large", Level.INFO, () -> metrics.limitResponses(413),
                        n -> "refused " + n + " request body(ies) over --max_body with 413")
                .add("auth_throttled", Level.INFO, () -> metrics.limitResponses(429),
                        n -> "refused " + n + " password check(s) with 429 (too many failures lately)")
                .add("service_unavailable", Level.WARNING, () -> metrics.limitResponses(503),
                        n -> "answered " + n + " request(s) with 503 (a queue full, storage not writable, or"
                                + " shutting down)");
        if (accessLog != null) {
            report.add("access_log_dropped", Level.WARNING, accessLog::dropped,
                    n -> "dropped " + n + " access log line(s): the writer fell behind");
        }
        return report;
    }

    /**
     * Whether the principal may still stream: the operator always; a user unless the directory knows them revoked or
     * gone. A user no longer cached (evicted since they authenticated) may: a revocation closes their stream anyway.
     */
    private static boolean mayStream(UserDirectory directory, Principal principal) {
        if (principal.isOperator()) {
            return true;
        }
        Optional<User> cached = directory.cached(principal.username());
        return cached == null || cached.map(user -> !user.revoked()).orElse(false);
    }

    /** The connection caps from their flags: {@code --max_connections 0} derives the cap from the open-files limit. */
    static ConnectionLimits connectionLimits(BrokerConfig config) {
        int max = config.get(MAX_CONNECTIONS);
        ConnectionLimits limits = new ConnectionLimits(max == 0 ? ConnectionLimits.derivedMax() : max,
                config.get(MAX_CONNECTIONS_PER_IP));
        LOG.log(Level.INFO, "connections: at most {0,number,#}{1}", limits.max(), limits.maxPerClient() == 0 ? ""
                : ", " + limits.maxPerClient() + " per client address");
        return limits;
    }

    /**
     * {@code GET /healthz}: {@code 200} while the store can write; {@code 503} with the reason while it cannot
     * (disk full, no file descriptors left: it recovers by itself, and the answer turns 200 again), so that a load
     * balancer drains this server meanwhile; {@code 503} and a close once the store is closed.
     */
    private static void healthz(Storage storage, ChannelHandlerContext ctx, ResponseSlot slot) {
        StorageHealth health = storage.health();
        if (health.writable()) {
            HttpResponses.object(ctx, slot, g -> g.writeStringField("status", "ok"));
        } else if (storage.isOpen()) {
            HttpResponses.error(ctx, slot, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "storage: " + health.reason());
        } else {
            HttpResponses.error(ctx, slot.closing(), HttpResponseStatus.SERVICE_UNAVAILABLE, "storage is closed");
        }
    }

    /** The SSE tuning from its flags (the config package knows nothing of the SSE one). */
    static SseSettings sseSettings(BrokerConfig config) {
        return new SseSettings(
                config.get(HEARTBEAT),
                config.get(SSE_DRAIN_INTERVAL_MS),
                config.get(SSE_FAN_OUT_CHUNK),
                config.get(SNAPSHOT_CACHE_NAMES),
                config.get(SNAPSHOT_CACHE_BYTES),
                config.get(SNAPSHOT_CACHE_LOOP_BYTES),
                config.get(SNAPSHOT_LINGER_MS),
                config.get(SSE_HISTORY_BUDGET_BYTES));
    }

    private static void cleanUpFailedStart(TlsService tls, EventLoopGroup group, EventLoopGroup acceptor,
                                           HashWorkers hashing, Storage storage) {
        if (tls != null) {
            tls.close();
        }
        acceptor.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        hashing.shutdown();
        storage.close();
    }

    private static void closeQuietly(AutoCloseable subscription) {
        if (subscription == null) {
            return;
        }
        try {
            subscription.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "unsubscribing from the users' change feed failed", e);
        }
    }

    /** With {@code --secure}: the certificate, its renewal and the plain-HTTP port; null otherwise. */
    public TlsService tls() {
        return tls;
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * Graceful shutdown: stop accepting, refuse new requests and password checks still waiting for a hashing thread,
     * close the streams, wait for requests under way (so every insert already accepted is answered), then close the
     * store and the threads. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        OperatorLog.info("stopping", "Broker stopping: refusing new connections, draining requests under way");
        serverChannel.close().syncUninterruptibly();
        acceptor.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (tls != null) {
            tls.close();
        }
        inFlight.startDraining();
        // Password checks still waiting are answered (503) now, while the loops run, instead of holding up the drain.
        hashing.shutdown();
        hub.closeAll();
        try {
            if (!inFlight.awaitIdle(DRAIN_SECONDS, TimeUnit.SECONDS)) {
                LOG.log(Level.WARNING, "shutdown: requests still under way after {0} s; closing anyway", DRAIN_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            feedSubscription.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "shutdown: unsubscribing from the feed failed", e);
        }
        closeQuietly(userSubscription);
        storage.close();
        try {
            // The checks running when shutdown began continue on the loops: while these still run.
            hashing.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        observability.close();
        OperatorLog.info("stopped", "Broker stopped");
    }
}
