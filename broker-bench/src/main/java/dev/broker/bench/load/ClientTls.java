package dev.broker.bench.load;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProtocols;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.internal.tcnative.SSL;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;

/**
 * The load generator's TLS, for {@code https://} URLs: OpenSSL (BoringSSL, from netty-tcnative, as the server
 * uses), TLS 1.3 only, trusting the certificate in {@code --ca} (the bench's self-signed one), SNI with
 * {@code --sni} (default {@code localhost}). Each simulated client keeps a session of its own, as a browser would:
 * its first connection is a full handshake, and when it reconnects it offers the ticket of its previous connection
 * and resumes. Counts handshakes and how many of them resumed.
 *
 * <p>Subscribers' connections offer {@code h2} in ALPN when {@code --h2-streams-per-conn} asks for HTTP/2, else
 * {@code http/1.1}; publishers' offer {@code http/1.1}.
 */
final class ClientTls {

    /** Sessions the client keeps for resumption: one per simulated client at the largest scenario, with room. */
    private static final int SESSION_CACHE_SIZE = 65_536;
    private static final String NOT_YET = "none";

    private final SslContext subscribers;
    private final SslContext publishers;
    private final String sni;
    private final int port;
    private final int h2Streams;
    private final String ca;
    final LongAdder handshakes = new LongAdder();
    final LongAdder resumed = new LongAdder();
    final LongAdder failures = new LongAdder();
    /**
     * The protocol, cipher suite and key-exchange group of the first handshake, for the report: every connection
     * makes the same offer, so one reading (a lock and a JNI call) stands for all of a storm's handshakes.
     */
    volatile String negotiated = NOT_YET;

    private ClientTls(SslContext subscribers, SslContext publishers, String sni, int port, int h2Streams, String ca) {
        this.subscribers = subscribers;
        this.publishers = publishers;
        this.sni = sni;
        this.port = port;
        this.h2Streams = h2Streams;
        this.ca = ca;
    }

    /**
     * @param ca        PEM file of the certificate to trust; null trusts any (the tool only talks to loopback)
     * @param ciphers   TLS 1.3 cipher suites to offer, or null for the provider's default
     * @param groups    key-exchange groups to offer, or null for the provider's default
     * @param h2Streams subscriber streams per HTTP/2 connection, or 0 for HTTP/1.1
     */
    static ClientTls create(String sni, int port, String ca, List<String> ciphers, List<String> groups,
                            int h2Streams) {
        if (!OpenSsl.isAvailable()) {
            throw new IllegalStateException("OpenSSL (netty-tcnative) does not load here: " + OpenSsl.unavailabilityCause());
        }
        SslContext subscribers = context(ca, ciphers, groups,
                h2Streams > 0 ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1);
        SslContext publishers = context(ca, ciphers, groups, ApplicationProtocolNames.HTTP_1_1);
        return new ClientTls(subscribers, publishers, sni, port, h2Streams, ca);
    }

    private static SslContext context(String ca, List<String> ciphers, List<String> groups, String protocol) {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .sslProvider(SslProvider.OPENSSL)
                    .protocols(SslProtocols.TLS_v1_3)
                    .sessionCacheSize(SESSION_CACHE_SIZE)
                    .sessionTimeout(3600)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            protocol));
            if (ciphers != null) {
                builder.ciphers(ciphers);
            }
            if (groups != null) {
                builder.option(OpenSslContextOption.GROUPS, groups.toArray(String[]::new));
            }
            if (ca == null) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            } else {
                builder.trustManager(new File(ca));
            }
            return builder.build();
        } catch (IOException e) {
            throw new IllegalArgumentException("TLS: cannot use --ca " + ca + ": " + e.getMessage(), e);
        }
    }

    static ClientTls of(Options options, int port, int h2Streams) {
        String ciphers = options.string("tls-ciphers", null);
        String groups = options.string("tls-groups", null);
        return create(options.string("sni", "localhost"), port, options.string("ca", null),
                ciphers == null ? null : List.of(ciphers.split(",")),
                groups == null ? null : List.of(groups.split(",")), h2Streams);
    }

    /** Subscriber streams per HTTP/2 connection; 0 when subscribers use HTTP/1.1 (one connection each). */
    int h2Streams() {
        return h2Streams;
    }

    /**
     * A handler for a connection of simulated subscriber {@code client}: it resumes the session of that subscriber's
     * previous connection, if any, and never another subscriber's.
     */
    SslHandler newSubscriberHandler(ByteBufAllocator alloc, int client) {
        return counted(subscribers.newHandler(alloc, sni, sessionKey(client)));
    }

    /** A handler for a publisher's connection; publishers share their context's one session. */
    SslHandler newPublisherHandler(ByteBufAllocator alloc) {
        return counted(publishers.newHandler(alloc, sni, port));
    }

    /**
     * The "peer port" that keys {@code client}'s session. Netty's client session cache holds one session per peer
     * host and port, and the port given to the engine serves only as that key (the socket is connected apart), so
     * a port of its own per client gives each client a session cache of its own. Past 65,535 clients keys repeat,
     * and some first connections may resume.
     */
    private static int sessionKey(int client) {
        return 1 + Math.floorMod(client, 65_535);
    }

    private SslHandler counted(SslHandler handler) {
        // A storm of handshakes on two busy cores can take longer than Netty's 10 s default: give up only when the
        // subscriber itself would (its open timeout), so a slow server is measured as slow, not as failing.
        handler.setHandshakeTimeout(LoadClient.OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        handler.handshakeFuture().addListener(f -> {
            if (!f.isSuccess()) {
                failures.increment();
                return;
            }
            handshakes.increment();
            if (negotiated == NOT_YET) {
                negotiated = handler.engine().getSession().getProtocol() + "/"
                        + handler.engine().getSession().getCipherSuite() + "/" + group(handler.engine());
            }
            if (reused(handler.engine())) {
                resumed.increment();
            }
        });
        return handler;
    }

    private static String group(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            synchronized (openSsl) {
                try {
                    return SSL.getGroupName(openSsl.sslPointer());
                } catch (Exception e) {
                    return "unknown";
                }
            }
        }
        return "unknown";
    }

    private static boolean reused(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            synchronized (openSsl) {
                return SSL.isSessionReused(openSsl.sslPointer());
            }
        }
        return false;
    }

    /** Handshakes (and resumed ones) from here on, for a scenario's window. */
    Counts counts() {
        return new Counts(handshakes.sum(), resumed.sum(), failures.sum());
    }

    record Counts(long handshakes, long resumed, long failures) {
        Counts since(Counts before) {
            return new Counts(handshakes - before.handshakes, resumed - before.resumed, failures - before.failures);
        }

        void put(Result result, String prefix) {
            result.put(prefix + "tls_handshakes", handshakes)
                    .put(prefix + "tls_resumed", resumed)
                    .put(prefix + "tls_resumed_frac", handshakes == 0 ? 0.0 : (double) resumed / handshakes);
            if (failures > 0) {
                result.put(prefix + "tls_failures", failures);
            }
        }
    }

    /** The JDK's context for the few set-up requests made with {@link java.net.http.HttpClient}. */
    SSLContext jdkContext() {
        try {
            TrustManagerFactory trust;
            if (ca == null) {
                trust = InsecureTrustManagerFactory.INSTANCE;
            } else {
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                try (InputStream in = Files.newInputStream(Path.of(ca))) {
                    int i = 0;
                    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        store.setCertificateEntry("ca" + i++, c);
                    }
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(store);
            }
            SSLContext jdk = SSLContext.getInstance("TLSv1.3");
            jdk.init(null, trust.getTrustManagers(), null);
            return jdk;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS: cannot use --ca " + ca + ": " + e.getMessage(), e);
        }
    }
}
