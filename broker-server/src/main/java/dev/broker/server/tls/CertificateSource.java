package dev.broker.server.tls;

import java.util.concurrent.ScheduledExecutorService;

/** Where the server's certificate comes from: your own files ({@link CertificateDirectory}) or ACME. */
interface CertificateSource {

    /** The certificate new connections get, or null while there is none yet (handshakes are then refused). */
    ServerCertificate current();

    /** Starts watching (reloads, renewals) on {@code scheduler}, which the caller owns and shuts down. */
    void start(ScheduledExecutorService scheduler);
}
