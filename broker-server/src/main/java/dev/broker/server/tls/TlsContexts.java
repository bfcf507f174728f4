package dev.broker.server.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProtocols;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/** TLS contexts from the certificate directory: {@code cert.pem} (full chain) and {@code key.pem} (PKCS#8). */
public final class TlsContexts {

    public static final String CERT_FILE = "cert.pem";
    public static final String KEY_FILE = "key.pem";

    private TlsContexts() {
    }

    /** A server context from {@code dir}; throws {@link IllegalStateException} naming the file that is wrong. */
    public static SslContext fromDirectory(Path dir) {
        Path cert = dir.resolve(CERT_FILE);
        Path key = dir.resolve(KEY_FILE);
        for (Path file : new Path[] {cert, key}) {
            if (!Files.isReadable(file)) {
                throw new IllegalStateException("TLS: cannot read " + file.toAbsolutePath()
                        + " (put your certificate chain in " + CERT_FILE + " and its key in " + KEY_FILE + ")");
            }
        }
        try {
            return SslContextBuilder.forServer(cert.toFile(), key.toFile())
                    .protocols(SslProtocols.TLS_v1_3, SslProtocols.TLS_v1_2)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("TLS: cannot load " + cert.toAbsolutePath() + " with " + key.toAbsolutePath()
                    + ": " + e.getMessage(), e);
        }
    }
}
