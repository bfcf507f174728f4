package dev.broker.server.tls;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
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
 * {@code http/1.1}, and a session cache so returning clients resume instead of a full handshake. One instance per
 * server holds the operator's choices ({@code --tls_groups}); every certificate, first or renewed, gets them.
 */
public final class TlsContexts {

    public static final String CERT_FILE = "cert.pem";
    public static final String KEY_FILE = "key.pem";

    /** The TLS library's own choices. */
    public static final TlsContexts DEFAULTS = new TlsContexts(List.of());

    /** How long a TLS session may be resumed, in seconds. */
    static final long SESSION_TIMEOUT_SECONDS = 3600;
    /** Sessions kept for resumption (per context). */
    static final long SESSION_CACHE_SIZE = 20_000;
    /**
     * Bytes each OpenSSL connection keeps for the TLS records it produces while reading (session tickets after the
     * handshake, alerts), allocated for the connection's whole life. Netty's 2,048 was a quarter of an idle stream's
     * memory; both TLS 1.3 tickets fit in this, and anything larger waits for the next write instead of failing.
     */
    static final int NON_APPLICATION_BUFFER_BYTES = 1024;

    /** Key-exchange groups, most preferred first; empty for the library's own order. */
    private final List<String> groups;

    public TlsContexts(List<String> groups) {
        this.groups = List.copyOf(groups);
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
    SslContext forServer(List<X509Certificate> chain, PrivateKey key, String where) {
        SslContextBuilder builder = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
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
                .sessionCacheSize(SESSION_CACHE_SIZE);
        if (!groups.isEmpty()) {
            if (provider() != SslProvider.OPENSSL) {
                throw new IllegalStateException("TLS: --tls_groups needs OpenSSL (netty-tcnative), which does not load"
                        + " on this machine; leave --tls_groups unset to use the JDK's groups");
            }
            builder.option(OpenSslContextOption.GROUPS, groups.toArray(String[]::new));
        }
        SslContext context;
        try {
            context = builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            if (!groups.isEmpty() && String.valueOf(e.getMessage()).contains("curves")) {
                throw new IllegalStateException("TLS: --tls_groups " + String.join(",", groups) + ": a name is not a"
                        + " group " + describeProvider() + " knows (it knows X25519MLKEM768, X25519, P-256, P-384,"
                        + " P-521)", e);
            }
            throw new IllegalStateException("TLS: cannot use " + where + ": " + e.getMessage(), e);
        }
        if (context instanceof ReferenceCountedOpenSslContext openSsl) {
            openSsl.setBioNonApplicationBufferSize(NON_APPLICATION_BUFFER_BYTES);
        }
        return context;
    }
}
