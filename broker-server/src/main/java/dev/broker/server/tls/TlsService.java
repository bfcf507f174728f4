package dev.broker.server.tls;

import static dev.broker.server.config.Flags.ACME_DIRECTORY;
import static dev.broker.server.config.Flags.ACME_TRUST;
import static dev.broker.server.config.Flags.BIND;
import static dev.broker.server.config.Flags.CERTS;
import static dev.broker.server.config.Flags.DOMAIN;
import static dev.broker.server.config.Flags.HTTP_PORT;
import static dev.broker.server.config.Flags.HTTP_PORT_OFF;
import static dev.broker.server.config.Flags.TLS_GROUPS;

import dev.broker.server.config.BrokerConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Everything {@code --secure} adds to the server: the certificate (your own files, reloaded when they change, or
 * an automatic one from ACME with {@code --domain}), the {@link SslContext} each new connection takes, and the
 * plain-HTTP listener ({@code --http_port}, 80) that answers ACME HTTP-01 challenges and redirects the rest to
 * HTTPS. Watching and renewing run on one daemon thread, {@code broker-tls}.
 *
 * <p>Life cycle: {@link #prepare} (reads the files; fails start-up with a message naming the file), then
 * {@link #start} once the event loops exist, then {@link #close}.
 */
public final class TlsService implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TlsService.class.getName());

    /** Largest request accepted on the plain-HTTP port (it only redirects): a small body is drained, not read. */
    private static final int MAX_HTTP_PORT_REQUEST_BYTES = 64 * 1024;
    private static final int HTTP_PORT_IDLE_SECONDS = 30;

    private final BrokerConfig config;
    private final CertificateSource source;
    private final AcmeChallenges challenges;
    /** Made in {@link #start}, so that a start-up that fails earlier leaves no thread behind. */
    private ScheduledExecutorService scheduler;
    private volatile int httpsPort;
    private Channel httpChannel;

    private TlsService(BrokerConfig config, CertificateSource source, AcmeChallenges challenges) {
        this.config = config;
        this.source = source;
        this.challenges = challenges;
    }

    /** Reads the certificate directory (and with a domain, the cached certificate); contacts nobody. */
    public static TlsService prepare(BrokerConfig config) {
        if (config.get(DOMAIN) != null && config.get(HTTP_PORT) == HTTP_PORT_OFF) {
            throw new IllegalStateException("TLS: --domain needs the plain-HTTP port for the ACME HTTP-01 challenge"
                    + " (the CA fetches http://" + config.get(DOMAIN) + "/.well-known/acme-challenge/...), but"
                    + " --http_port is -1; leave it at 80 (or forward port 80 to it)");
        }
        AcmeChallenges challenges = new AcmeChallenges();
        TlsContexts contexts = config.get(TLS_GROUPS) == null ? TlsContexts.DEFAULTS
                : new TlsContexts(config.get(TLS_GROUPS));
        CertificateSource source = config.get(DOMAIN) == null
                ? CertificateDirectory.open(config.get(CERTS), contexts)
                : AcmeCertificates.open(config.get(CERTS), contexts, config.get(DOMAIN), config.get(ACME_DIRECTORY),
                        config.get(ACME_TRUST), challenges);
        return new TlsService(config, source, challenges);
    }

    /**
     * Binds the plain-HTTP port (unless off) and starts watching or renewing.
     *
     * @param httpsPort the bound HTTPS port, for redirects
     */
    public void start(EventLoopGroup group, Class<? extends ServerChannel> channelClass, int httpsPort) {
        this.httpsPort = httpsPort;
        if (config.get(HTTP_PORT) != HTTP_PORT_OFF) {
            HttpPortHandler handler = new HttpPortHandler(challenges, () -> this.httpsPort);
            try {
                httpChannel = new ServerBootstrap()
                        .group(group)
                        .channel(channelClass)
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .childHandler(new ChannelInitializer<>() {
                            @Override
                            protected void initChannel(Channel channel) {
                                channel.pipeline()
                                        .addLast(new ReadTimeoutHandler(HTTP_PORT_IDLE_SECONDS))
                                        .addLast(new HttpServerCodec(new HttpDecoderConfig()))
                                        .addLast(new HttpObjectAggregator(MAX_HTTP_PORT_REQUEST_BYTES))
                                        .addLast(handler);
                            }
                        })
                        .bind(new InetSocketAddress(config.get(BIND), config.get(HTTP_PORT)))
                        .syncUninterruptibly()
                        .channel();
            } catch (RuntimeException e) {
                throw new IllegalStateException("TLS: cannot listen on the plain-HTTP port " + config.get(BIND) + ":"
                        + config.get(HTTP_PORT) + " (" + e.getMessage() + ")"
                        + (config.get(DOMAIN) != null ? "; --domain needs it for the ACME HTTP-01 challenge"
                                : "; set --http_port -1 to turn the HTTPS redirect off"), e);
            }
            LOG.log(Level.INFO, "TLS: plain HTTP on port {0,number,#}: ACME challenges and redirects to HTTPS",
                    httpPort());
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("broker-tls", true));
        source.start(scheduler);
        LOG.log(Level.INFO, "TLS: {0}; certificate {1}", TlsContexts.describeProvider(),
                source.current() == null ? "pending" : source.current().describe());
    }

    /** The context for a new connection, or null while there is no certificate yet. */
    public SslContext currentContext() {
        ServerCertificate certificate = source.current();
        return certificate == null ? null : certificate.context();
    }

    /** The certificate in use, or null while there is none yet. */
    public ServerCertificate current() {
        return source.current();
    }

    /** The bound plain-HTTP port, or -1 when it is off. */
    public int httpPort() {
        return httpChannel == null ? -1 : ((InetSocketAddress) httpChannel.localAddress()).getPort();
    }

    /**
     * With {@code --domain}: orders a new certificate now and swaps it in (for operators' tooling and tests);
     * completes with the new certificate, or fails as the ACME exchange did.
     */
    public CompletableFuture<ServerCertificate> renewNow() {
        if (!(source instanceof AcmeCertificates acme)) {
            return CompletableFuture.failedFuture(new IllegalStateException("no --domain: nothing to renew"));
        }
        return acme.renewNow();
    }

    @Override
    public void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (httpChannel != null) {
            httpChannel.close().syncUninterruptibly();
        }
        try {
            if (scheduler != null) {
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
