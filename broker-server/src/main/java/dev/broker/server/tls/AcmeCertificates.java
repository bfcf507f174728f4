package dev.broker.server.tls;

import dev.broker.server.logging.OperatorLog;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.connector.HttpConnector;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * An automatic certificate for one domain from an ACME CA (Let's Encrypt by default), with the HTTP-01 challenge:
 * the CA fetches {@code http://DOMAIN/.well-known/acme-challenge/TOKEN}, which the plain-HTTP listener (port 80)
 * answers from {@link AcmeChallenges}.
 *
 * <p>Files in the certificate directory: {@code acme-account.pem} (the account key, made once), {@code cert.pem}
 * and {@code key.pem} (the current certificate and its key, the same layout as your own certificate). At start the
 * cached certificate is used if it names the domain, matches its key and is valid; otherwise (and whenever fewer
 * than {@link #RENEW_BEFORE} remain) a new one is ordered in the background and swapped in for new connections.
 * A failure (CA unreachable, rate limit, failed validation) is logged and retried with exponential back-off from
 * {@link #FIRST_RETRY} to {@link #MAX_RETRY} (or after the CA's Retry-After); the certificate in use, if any,
 * stays in use. Until the very first certificate arrives, TLS handshakes are refused.
 */
final class AcmeCertificates implements CertificateSource {

    private static final System.Logger LOG = System.getLogger(AcmeCertificates.class.getName());

    static final String ACCOUNT_KEY_FILE = "acme-account.pem";
    /** Renew when fewer days than this remain (Let's Encrypt certificates last 90 days). */
    static final Duration RENEW_BEFORE = Duration.ofDays(30);
    /** A valid certificate is checked again at least this often. */
    static final Duration CHECK_EVERY = Duration.ofHours(12);
    static final Duration FIRST_RETRY = Duration.ofSeconds(30);
    static final Duration MAX_RETRY = Duration.ofHours(6);
    /** How long one challenge validation or one finalization may take. */
    static final Duration ORDER_TIMEOUT = Duration.ofMinutes(2);

    private final Path dir;
    private final TlsContexts contexts;
    private final String domain;
    private final URI directory;
    private final SSLContext acmeTrust;
    private final AcmeChallenges challenges;
    private volatile ServerCertificate current;
    private ScheduledExecutorService scheduler;
    private ScheduledFuture<?> next;
    private Duration retry = FIRST_RETRY;

    private AcmeCertificates(Path dir, TlsContexts contexts, String domain, URI directory, SSLContext acmeTrust,
                             AcmeChallenges challenges, ServerCertificate cached) {
        this.dir = dir;
        this.contexts = contexts;
        this.domain = domain;
        this.directory = directory;
        this.acmeTrust = acmeTrust;
        this.challenges = challenges;
        this.current = cached;
    }

    /**
     * Prepares the directory and reads the cached certificate, if usable; contacts nobody.
     *
     * @param trustFile PEM CA certificates for the ACME directory's HTTPS, or null for the JVM's trust store
     */
    static AcmeCertificates open(Path dir, TlsContexts contexts, String domain, String directoryUrl, Path trustFile,
                                 AcmeChallenges challenges) {
        try {
            Files.createDirectories(dir);
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException | IOException notOurs) {
                // a directory we may not chmod (or a non-POSIX file system): its permissions are the operator's
            }
        } catch (IOException e) {
            throw new IllegalStateException("TLS: cannot create the certificate directory " + dir.toAbsolutePath()
                    + ": " + e, e);
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalStateException("TLS: the certificate directory " + dir.toAbsolutePath()
                    + " is not writable; the ACME account and certificates are kept there");
        }
        SSLContext trust = trustFile == null ? null : sslContextTrusting(trustFile);
        // acme4j signs the certificate request through Bouncy Castle's provider; added last, it changes no default.
        if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
            Security.addProvider(new BouncyCastleProvider());
        }
        return new AcmeCertificates(dir, contexts, domain, URI.create(directoryUrl), trust, challenges,
                cached(dir, contexts, domain));
    }

    /** The cached certificate, or null when there is none for the domain or it cannot be used. */
    private static ServerCertificate cached(Path dir, TlsContexts contexts, String domain) {
        if (!Files.exists(dir.resolve(TlsContexts.CERT_FILE))) {
            return null;
        }
        try {
            ServerCertificate certificate = CertificateDirectory.load(dir, contexts);
            if (!certificate.covers(domain)) {
                LOG.log(Level.WARNING, "TLS: the certificate in {0} does not name {1}; ordering a new one",
                        dir.toAbsolutePath(), domain);
                return null;
            }
            if (!certificate.isValidAt(Instant.now())) {
                LOG.log(Level.WARNING, "TLS: the cached certificate {0} is not valid now; ordering a new one",
                        certificate.describe());
                return null;
            }
            LOG.log(Level.INFO, "TLS: using the cached certificate {0} for {1}", certificate.describe(), domain);
            return certificate;
        } catch (IllegalStateException e) {
            LOG.log(Level.WARNING, e.getMessage() + "; ordering a new certificate");
            return null;
        }
    }

    @Override
    public ServerCertificate current() {
        return current;
    }

    @Override
    public synchronized void start(ScheduledExecutorService scheduler) {
        this.scheduler = scheduler;
        if (current == null) {
            LOG.log(Level.INFO, "TLS: obtaining a certificate for {0} from {1}; HTTPS handshakes are refused until"
                    + " it arrives", domain, directory);
        }
        schedule(current == null ? Duration.ZERO : untilRenewal(current, Instant.now()));
    }

    /** Orders a new certificate now, whatever the current one's age; completes when it is in use. */
    CompletableFuture<ServerCertificate> renewNow() {
        CompletableFuture<ServerCertificate> result = new CompletableFuture<>();
        scheduler.execute(() -> {
            try {
                result.complete(obtainAndSwap());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /** When to look again at a certificate: when it is due for renewal, and at least every {@link #CHECK_EVERY}. */
    static Duration untilRenewal(ServerCertificate certificate, Instant now) {
        Duration untilDue = Duration.between(now, certificate.notAfter().minus(RENEW_BEFORE));
        if (untilDue.isNegative()) {
            return Duration.ZERO;
        }
        return untilDue.compareTo(CHECK_EVERY) < 0 ? untilDue : CHECK_EVERY;
    }

    private synchronized void schedule(Duration delay) {
        if (scheduler.isShutdown()) {
            return;
        }
        if (next != null) {
            next.cancel(false);
        }
        next = scheduler.schedule(this::check, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The background step: renew if due, then schedule the next look (or a retry after a failure). */
    private void check() {
        ServerCertificate certificate = current;
        Instant now = Instant.now();
        if (certificate != null && !untilRenewal(certificate, now).isZero()) {
            schedule(untilRenewal(certificate, now));
            return;
        }
        try {
            ServerCertificate fresh = obtainAndSwap();
            retry = FIRST_RETRY;
            schedule(untilRenewal(fresh, Instant.now()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Duration wait = retry;
            if (e instanceof AcmeRateLimitedException limited && limited.getRetryAfter().isPresent()) {
                Duration asked = Duration.between(Instant.now(), limited.getRetryAfter().get());
                wait = asked.compareTo(wait) > 0 ? asked : wait;
            }
            retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
            String serving = certificate == null ? "no certificate yet: HTTPS handshakes are refused"
                    : "still serving " + certificate.describe();
            LOG.log(Level.ERROR, "TLS: obtaining a certificate for " + domain + " from " + directory + " failed: "
                    + reason(e) + "; " + serving + "; retrying in " + wait.toSeconds() + " s", e);
            schedule(wait);
        }
    }

    private static String reason(Exception e) {
        if (e instanceof AcmeRateLimitedException) {
            return "rate limited by the CA (" + e.getMessage() + ")";
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** The whole ACME exchange (on the TLS thread): account, order, HTTP-01, finalize, download, swap. */
    private ServerCertificate obtainAndSwap() throws AcmeException, IOException, InterruptedException {
        long started = System.nanoTime();
        Session session = new Session(directory, new Provider(acmeTrust));
        session.networkSettings().setTimeout(Duration.ofSeconds(30));
        Account account = new AccountBuilder()
                .agreeToTermsOfService()
                .useKeyPair(accountKey())
                .create(session);
        Order order = account.newOrder().domain(domain).create();
        for (Authorization authorization : order.getAuthorizations()) {
            if (authorization.getStatus() != Status.VALID) {
                authorize(authorization);
            }
        }
        KeyPair domainKey = KeyPairUtils.createECKeyPair("secp256r1");
        order.execute(domainKey);
        Status status = order.waitForCompletion(ORDER_TIMEOUT);
        if (status != Status.VALID) {
            throw new AcmeException("the order ended " + status
                    + order.getError().map(problem -> ": " + problem).orElse(""));
        }
        List<X509Certificate> chain = order.getCertificate().getCertificateChain();
        ServerCertificate fresh = ServerCertificate.of(chain, domainKey.getPrivate(), "the certificate issued for " + domain,
                contexts);
        // Key first: a crash between the two writes leaves a pair that does not match, which start-up re-orders.
        PemFiles.writeKeyPair(dir.resolve(TlsContexts.KEY_FILE), domainKey);
        PemFiles.writeChain(dir.resolve(TlsContexts.CERT_FILE), chain);
        current = fresh;
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        OperatorLog.info("certificate_obtained", "TLS: obtained " + fresh.describe() + " for " + domain + " in "
                + millis + " ms; new connections use it", "domain", domain, "millis", millis);
        return fresh;
    }

    private void authorize(Authorization authorization) throws AcmeException, InterruptedException {
        Http01Challenge challenge = authorization.findChallenge(Http01Challenge.class)
                .orElseThrow(() -> new AcmeException("the CA offers no http-01 challenge for "
                        + authorization.getIdentifier().getDomain()));
        challenges.put(challenge.getToken(), challenge.getAuthorization());
        try {
            challenge.trigger();
            Status status = authorization.waitForCompletion(ORDER_TIMEOUT);
            if (status != Status.VALID) {
                challenge.fetch();
                throw new AcmeException("the CA could not validate " + authorization.getIdentifier().getDomain()
                        + " over HTTP-01 (is port 80 of this host reachable from the internet under that name?)"
                        + challenge.getError().map(problem -> ": " + problem).orElse(""));
            }
        } finally {
            challenges.remove(challenge.getToken());
        }
    }

    private KeyPair accountKey() throws IOException {
        Path file = dir.resolve(ACCOUNT_KEY_FILE);
        if (Files.exists(file)) {
            return PemFiles.readKeyPair(file);
        }
        // RSA: its PEM form keeps the public half, which the account's JWS needs.
        KeyPair pair = KeyPairUtils.createKeyPair(2048);
        PemFiles.writeKeyPair(file, pair);
        LOG.log(Level.INFO, "TLS: created the ACME account key {0}", file.toAbsolutePath());
        return pair;
    }

    private static SSLContext sslContextTrusting(Path pemFile) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (X509Certificate certificate : PemFiles.readChain(pemFile)) {
                store.setCertificateEntry("ca-" + i++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("TLS: cannot use " + pemFile.toAbsolutePath() + " as ACME trust: " + e, e);
        }
    }

    /** acme4j's generic provider (any http(s) directory URL), with our trust store for the CA's HTTPS if given. */
    private static final class Provider extends GenericAcmeProvider {

        private final SSLContext trust;

        Provider(SSLContext trust) {
            this.trust = trust;
        }

        @Override
        protected HttpConnector createHttpConnector(NetworkSettings settings) {
            if (trust == null) {
                return super.createHttpConnector(settings);
            }
            return new HttpConnector(settings) {
                @Override
                public HttpClient.Builder createClientBuilder() {
                    return super.createClientBuilder().sslContext(trust);
                }
            };
        }
    }
}
