package dev.broker.server.tls;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProtocols;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Server TLS contexts: OpenSSL (BoringSSL, from netty-tcnative) where it loads, the JDK's provider otherwise;
 * TLS 1.2 and 1.3 only, the HTTP/2-approved AEAD cipher suites, ALPN offering {@code h2} then
 * {@code http/1.1}, and a session cache so returning clients resume instead of a full handshake.
 */
public final class TlsContexts {

    public static final String CERT_FILE = "cert.pem";
    public static final String KEY_FILE = "key.pem";

    /** How long a TLS session may be resumed, in seconds. */
    static final long SESSION_TIMEOUT_SECONDS = 3600;
    /** Sessions kept for resumption (per context). */
    static final long SESSION_CACHE_SIZE = 20_000;

    private TlsContexts() {
    }

    /** OpenSSL when netty-tcnative loads on this machine (with ALPN), else the JDK. */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() && SslProvider.isAlpnSupported(SslProvider.OPENSSL) ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** A one-line description for the start-up log. */
    public static String describeProvider() {
        return provider() == SslProvider.OPENSSL ? "OpenSSL (" + OpenSsl.versionString() + ")" : "JDK";
    }

    /** A server context for the chain (leaf first) and its key; {@code where} names them in errors. */
    static SslContext forServer(List<X509Certificate> chain, PrivateKey key, String where) {
        try {
            return SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
                    .sslProvider(provider())
                    .protocols(SslProtocols.TLS_v1_3, SslProtocols.TLS_v1_2)
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            // Both behaviours are the only ones every provider supports.
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                    .sessionTimeout(SESSION_TIMEOUT_SECONDS)
                    .sessionCacheSize(SESSION_CACHE_SIZE)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("TLS: cannot use " + where + ": " + e.getMessage(), e);
        }
    }
}
