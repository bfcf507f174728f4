package dev.broker.server;

import static dev.broker.server.config.Flags.ADMIN_TOKEN;
import static dev.broker.server.config.Flags.AUTH_FAILURES_PER_IP;
import static dev.broker.server.config.Flags.AUTH_FAILURES_PER_USER;
import static dev.broker.server.config.Flags.BIND;
import static dev.broker.server.config.Flags.DB;
import static dev.broker.server.config.Flags.HASH_QUEUE;
import static dev.broker.server.config.Flags.HEARTBEAT;
import static dev.broker.server.config.Flags.JWT_EXPIRY;
import static dev.broker.server.config.Flags.JWT_SECRET;
import static dev.broker.server.config.Flags.MAX_BODY;
import static dev.broker.server.config.Flags.MAX_CONNECTIONS;
import static dev.broker.server.config.Flags.MAX_CONNECTIONS_PER_IP;
import static dev.broker.server.config.Flags.ORIGIN;
import static dev.broker.server.config.Flags.PORT;
import static dev.broker.server.config.Flags.REQUEST_TIMEOUT;
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
import dev.broker.server.api.ApiHandler;
import dev.broker.server.api.AuthHandler;
import dev.broker.server.api.Endpoint;
import dev.broker.server.api.InsertEndpoint;
import dev.broker.server.api.Route;
import dev.broker.server.api.RouteHandler;
import dev.broker.server.api.SessionEndpoints;
import dev.broker.server.api.SseEndpoint;
import dev.broker.server.auth.AuthThrottle;
import dev.broker.server.auth.Authenticator;
import dev.broker.server.auth.BasicCredentialCache;
import dev.broker.server.auth.HashWorkers;
import dev.broker.server.auth.JwtTokens;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.config.BrokerConfig;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.ResponseSlot;
import dev.broker.server.pipeline.BrokerChannelInitializer;
import dev.broker.server.pipeline.ConnectionLimits;
import dev.broker.server.sse.SseHub;
import dev.broker.server.sse.SseSettings;
import dev.broker.server.tls.TlsService;
import dev.broker.storage.Storage;
import dev.broker.storage.StorageHealth;
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
import java.util.EnumMap;
import java.util.Map;
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
    private final InFlightRequests inFlight;
    private final Channel serverChannel;
    private final TlsService tls;
    private final AtomicBoolean closed = new AtomicBoolean();

    private BrokerServer(Storage storage, HashWorkers hashing, EventLoopGroup group, EventLoopGroup acceptor,
                         SseHub hub, AutoCloseable feedSubscription, InFlightRequests inFlight, Channel serverChannel,
                         TlsService tls) {
        this.storage = storage;
        this.hashing = hashing;
        this.group = group;
        this.acceptor = acceptor;
        this.hub = hub;
        this.feedSubscription = feedSubscription;
        this.inFlight = inFlight;
        this.serverChannel = serverChannel;
        this.tls = tls;
    }

    /**
     * Opens the storage backend the configuration names: the one place that picks a backend, for the server and
     * for the command-line tools alike. Throws if it cannot be opened (nothing is left open).
     */
    public static Storage openStorage(BrokerConfig config) {
        return RocksStorage.open(config.get(DB));
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
        try {
            UserDirectory directory = new UserDirectory(storage.users(), config.get(USER_CACHE));
            PasswordHasher hasher = new PasswordHasher(hashing);
            JwtTokens tokens = new JwtTokens(config.get(JWT_SECRET), config.get(JWT_EXPIRY));
            BasicCredentialCache basicCache = new BasicCredentialCache();
            AuthThrottle throttle = new AuthThrottle(config.get(AUTH_FAILURES_PER_USER), config.get(AUTH_FAILURES_PER_IP));
            SseHub hub = new SseHub(group, ByteBufAllocator.DEFAULT, storage.events(), sseSettings(config));
            AutoCloseable feedSubscription = storage.feed().subscribe(hub);

            AdminEndpoints admin = new AdminEndpoints(config.get(ADMIN_TOKEN), storage.users(), directory, hasher, basicCache, hub);
            SessionEndpoints sessions = new SessionEndpoints(directory, hasher, tokens, throttle);
            Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
            endpoints.put(Route.CREATE_USER, admin::createUser);
            endpoints.put(Route.REVOKE_USER, admin::revokeUser);
            endpoints.put(Route.UNREVOKE_USER, admin::unrevokeUser);
            endpoints.put(Route.LIST_USERS, admin::listUsers);
            endpoints.put(Route.GET_USER, admin::getUser);
            endpoints.put(Route.LOGIN, sessions::login);
            endpoints.put(Route.VERIFY, sessions::verify);
            endpoints.put(Route.INSERT, new InsertEndpoint(storage.events()));
            endpoints.put(Route.SSE, new SseEndpoint(hub));
            endpoints.put(Route.HEALTHZ, (ctx, request) -> healthz(storage, ctx, request.slot()));

            InFlightRequests inFlight = new InFlightRequests();
            Supplier<SslContext> sslContexts = tls == null ? null : tls::currentContext;
            ConnectionLimits limits = connectionLimits(config);
            BrokerChannelInitializer initializer = new BrokerChannelInitializer(sslContexts, limits,
                    config.get(REQUEST_TIMEOUT), config.get(ORIGIN), config.get(MAX_BODY), inFlight,
                    new RouteHandler(),
                    new AuthHandler(new Authenticator(tokens, directory, hasher, basicCache, throttle)),
                    new ApiHandler(endpoints));
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
            LOG.log(Level.INFO, "Broker listening on {0}:{1,number,#} ({2}, {3})", config.get(BIND),
                    ((InetSocketAddress) serverChannel.localAddress()).getPort(),
                    config.get(SECURE) ? "https" : "http", transport.name());
            return new BrokerServer(storage, hashing, group, acceptor, hub, feedSubscription, inFlight, serverChannel, tls);
        } catch (RuntimeException | Error e) {
            cleanUpFailedStart(tls, group, acceptor, hashing, storage);
            throw e;
        } catch (Exception e) {
            // Netty rethrows a failed bind's checked NativeIoException ("Address already in use") undeclared.
            cleanUpFailedStart(tls, group, acceptor, hashing, storage);
            throw new IllegalStateException("cannot listen on " + config.get(BIND) + ":" + config.get(PORT) + ": "
                    + e.getMessage(), e);
        }
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
        storage.close();
        try {
            // The checks running when shutdown began continue on the loops: while these still run.
            hashing.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        LOG.log(Level.INFO, "Broker stopped");
    }
}
