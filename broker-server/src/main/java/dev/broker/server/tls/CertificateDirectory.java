package dev.broker.server.tls;

import dev.broker.server.logging.OperatorLog;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Your own certificate: {@code cert.pem} (the full chain, leaf first) and {@code key.pem} in the certificate
 * directory. The files are polled every {@link #POLL_INTERVAL} (modification time, size and inode, so certbot's
 * switch of symbolic links counts too); a change that has held still for one interval is loaded, checked (the key
 * must belong to the certificate, which must be valid now) and handed to new connections. Connections already
 * open keep the certificate they were made with, so no stream is dropped. A replacement that fails the checks is
 * logged and ignored: the server keeps serving the certificate it has.
 */
final class CertificateDirectory implements CertificateSource {

    private static final System.Logger LOG = System.getLogger(CertificateDirectory.class.getName());

    /** How often the files are looked at: two stat calls, cheap enough to be prompt. */
    static final Duration POLL_INTERVAL = Duration.ofSeconds(2);

    private final Path dir;
    private final TlsContexts contexts;
    private volatile ServerCertificate current;
    /** The state of the files the current certificate was loaded from. */
    private List<Object> loaded;
    /** The state seen at the last poll, so that a change is loaded only once it holds still. */
    private List<Object> lastSeen;

    private CertificateDirectory(Path dir, TlsContexts contexts, ServerCertificate current, List<Object> loaded) {
        this.dir = dir;
        this.contexts = contexts;
        this.current = current;
        this.loaded = loaded;
        this.lastSeen = loaded;
    }

    /** Loads the directory at start-up; throws {@link IllegalStateException} naming what is wrong. */
    static CertificateDirectory open(Path dir, TlsContexts contexts) {
        List<Object> state = state(dir);
        ServerCertificate certificate = load(dir, contexts);
        Instant now = Instant.now();
        if (!certificate.isValidAt(now)) {
            LOG.log(Level.WARNING, "TLS: the certificate in {0} is not valid now ({1}); clients will refuse it."
                    + " Replace {2} and {3}: they are reloaded without a restart",
                    dir.toAbsolutePath(), certificate.describe(), TlsContexts.CERT_FILE, TlsContexts.KEY_FILE);
        }
        return new CertificateDirectory(dir, contexts, certificate, state);
    }

    /** Reads and checks {@code cert.pem} and {@code key.pem} of {@code dir}. */
    static ServerCertificate load(Path dir, TlsContexts contexts) {
        Path cert = dir.resolve(TlsContexts.CERT_FILE);
        Path key = dir.resolve(TlsContexts.KEY_FILE);
        for (Path file : new Path[] {cert, key}) {
            if (!Files.isReadable(file)) {
                throw new IllegalStateException("TLS: cannot read " + file.toAbsolutePath()
                        + (Files.exists(file) ? " (permission denied)" : " (no such file)")
                        + "; put your certificate chain in " + TlsContexts.CERT_FILE + " and its key in "
                        + TlsContexts.KEY_FILE + ", or use --domain for an automatic certificate");
            }
        }
        return ServerCertificate.of(PemFiles.readChain(cert), PemFiles.readPrivateKey(key),
                cert.toAbsolutePath() + " with " + key.toAbsolutePath(), contexts);
    }

    @Override
    public ServerCertificate current() {
        return current;
    }

    @Override
    public void start(ScheduledExecutorService scheduler) {
        long millis = POLL_INTERVAL.toMillis();
        scheduler.scheduleWithFixedDelay(this::poll, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** One look at the files (on the TLS thread). */
    void poll() {
        try {
            List<Object> state = state(dir);
            boolean settled = Objects.equals(state, lastSeen);
            lastSeen = state;
            if (!settled || Objects.equals(state, loaded)) {
                return;
            }
            loaded = state;
            ServerCertificate next;
            try {
                next = load(dir, contexts);
            } catch (IllegalStateException e) {
                LOG.log(Level.ERROR, e.getMessage() + "; still serving " + current.describe());
                return;
            }
            if (!next.isValidAt(Instant.now())) {
                LOG.log(Level.ERROR, "TLS: ignoring the new certificate in {0}: it is not valid now ({1});"
                        + " still serving {2}", dir.toAbsolutePath(), next.describe(), current.describe());
                return;
            }
            current = next;
            OperatorLog.info("certificate_loaded", "TLS: loaded the new certificate " + next.describe() + " from "
                    + dir.toAbsolutePath() + "; new connections use it", "directory", dir.toAbsolutePath().toString());
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "TLS: watching " + dir.toAbsolutePath() + " failed", e);
        }
    }

    /** Modification time, size and file key of both files (missing ones count as null). */
    private static List<Object> state(Path dir) {
        return List.of(attributes(dir.resolve(TlsContexts.CERT_FILE)), attributes(dir.resolve(TlsContexts.KEY_FILE)));
    }

    private static Object attributes(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
        } catch (IOException e) {
            return "missing";
        }
    }
}
