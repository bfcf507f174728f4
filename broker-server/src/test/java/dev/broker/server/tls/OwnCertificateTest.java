package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.BrokerServer;
import dev.broker.server.tls.TestCertificates.Issued;
import dev.broker.server.tls.TestCertificates.KeyFormat;
import java.math.BigInteger;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --secure --certs DIR} with your own cert.pem and key.pem: formats, start-up errors, reloads. */
class OwnCertificateTest {

    /** Polls happen every 2 s and a change must hold still for one poll: a reload lands within about 4-6 s. */
    private static final Duration RELOAD_WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final TestCertificates pki = new TestCertificates();

    @ParameterizedTest(name = "{0} key as {1}")
    @CsvSource({"RSA, PKCS8", "RSA, TRADITIONAL", "EC, PKCS8", "EC, TRADITIONAL"})
    void servesHttpsWithOwnCertificateInEveryKeyFormat(String algorithm, KeyFormat format) throws Exception {
        KeyPair keys = algorithm.equals("RSA") ? TestCertificates.rsa() : TestCertificates.ec();
        Issued leaf = pki.leaf(keys);
        pki.install(dir.resolve("certs"), leaf, format);
        try (SecureBroker broker = new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity())) {
            HttpResponse<String> health = broker.send(broker.client(HttpClient.Version.HTTP_1_1),
                    HttpRequest.newBuilder(broker.uri("/healthz")).build());
            assertEquals(200, health.statusCode());
            assertEquals(leaf.certificate().getSerialNumber(), broker.presentedLeaf("localhost").getSerialNumber());
        }
    }

    @Test
    void refusesToStartWithoutTheFilesNamingTheMissingOne() throws Exception {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity()));
        assertTrue(e.getMessage().contains(dir.resolve("certs").resolve("cert.pem").toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());

        pki.install(dir.resolve("certs"), pki.leaf(TestCertificates.ec()), KeyFormat.PKCS8);
        java.nio.file.Files.delete(dir.resolve("certs").resolve("key.pem"));
        e = assertThrows(IllegalStateException.class, () -> new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity()));
        assertTrue(e.getMessage().contains("key.pem"), e.getMessage());
    }

    @Test
    void refusesToStartWithAKeyThatIsNotTheCertificatesOrIsNotAKey() throws Exception {
        Issued leaf = pki.leaf(TestCertificates.ec());
        pki.install(dir.resolve("certs"), new Issued(TestCertificates.ec(), leaf.certificate()), KeyFormat.PKCS8);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity()));
        assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());

        java.nio.file.Files.writeString(dir.resolve("certs").resolve("key.pem"), "not a key\n");
        e = assertThrows(IllegalStateException.class, () -> new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity()));
        assertTrue(e.getMessage().contains("key.pem") && e.getMessage().contains("private key"), e.getMessage());
    }

    @Test
    void picksUpAReplacedCertificateWithoutDroppingOpenStreams() throws Exception {
        Path certs = dir.resolve("certs");
        Issued first = pki.leaf(TestCertificates.ec());
        pki.install(certs, first, KeyFormat.PKCS8);
        try (SecureBroker broker = new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity())) {
            String jwt = broker.userToken("ada", "acme");
            HttpClient h1 = broker.client(HttpClient.Version.HTTP_1_1);
            HttpClient h2 = broker.client(HttpClient.Version.HTTP_2);
            try (SecureBroker.SseLines overHttp1 = broker.sse(h1, jwt);
                 SecureBroker.SseLines overHttp2 = broker.sse(h2, jwt)) {
                String id1 = broker.insert(h2, jwt, "tick", "1");
                overHttp1.awaitId(id1, Duration.ofSeconds(5));
                overHttp2.awaitId(id1, Duration.ofSeconds(5));

                // A renewal as certbot does it: new key, new certificate (here in PKCS#1 form).
                Issued second = pki.leaf(TestCertificates.rsa());
                pki.install(certs, second, KeyFormat.TRADITIONAL);
                awaitPresented(broker, second.certificate().getSerialNumber());

                String id2 = broker.insert(h2, jwt, "tick", "2");
                overHttp1.awaitId(id2, Duration.ofSeconds(5));
                overHttp2.awaitId(id2, Duration.ofSeconds(5));

                // A broken replacement (expired, then a key of another certificate) is refused: the last good
                // certificate stays in use and the streams go on.
                Issued expired = pki.leaf(TestCertificates.ec(), Instant.now().minus(Duration.ofDays(100)),
                        Instant.now().minus(Duration.ofDays(10)));
                pki.install(certs, expired, KeyFormat.PKCS8);
                Thread.sleep(CertificateDirectory.POLL_INTERVAL.multipliedBy(3).toMillis());
                assertEquals(second.certificate().getSerialNumber(), broker.presentedLeaf("localhost").getSerialNumber());
                pki.install(certs, new Issued(TestCertificates.ec(), pki.leaf(TestCertificates.ec()).certificate()),
                        KeyFormat.PKCS8);
                Thread.sleep(CertificateDirectory.POLL_INTERVAL.multipliedBy(3).toMillis());
                assertEquals(second.certificate().getSerialNumber(), broker.presentedLeaf("localhost").getSerialNumber());

                String id3 = broker.insert(h1, jwt, "tick", "3");
                overHttp1.awaitId(id3, Duration.ofSeconds(5));
                overHttp2.awaitId(id3, Duration.ofSeconds(5));
                assertFalse(overHttp1.ended() || overHttp2.ended());
            }
        }
    }

    @Test
    void startsWithAnExpiredCertificateButWarns() throws Exception {
        Issued expired = pki.leaf(TestCertificates.ec(), Instant.now().minus(Duration.ofDays(100)),
                Instant.now().minus(Duration.ofDays(10)));
        pki.install(dir.resolve("certs"), expired, KeyFormat.PKCS8);
        // Clients refuse it, but the operator can replace the files without a restart.
        try (SecureBroker broker = new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity())) {
            BrokerServer server = broker.server();
            assertEquals(expired.certificate().getSerialNumber(), server.tls().current().leaf().getSerialNumber());
            Issued fresh = pki.leaf(TestCertificates.ec());
            pki.install(dir.resolve("certs"), fresh, KeyFormat.PKCS8);
            awaitPresented(broker, fresh.certificate().getSerialNumber());
        }
    }

    static void awaitPresented(SecureBroker broker, BigInteger serial) throws Exception {
        long deadline = System.nanoTime() + RELOAD_WAIT.toNanos();
        BigInteger seen = null;
        while (System.nanoTime() < deadline) {
            seen = broker.server().tls().current().leaf().getSerialNumber();
            if (seen.equals(serial)) {
                assertEquals(serial, broker.presentedLeaf("localhost").getSerialNumber());
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("still serving serial " + seen + ", expected " + serial);
    }
}
