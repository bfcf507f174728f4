package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.tls.TestCertificates.Issued;
import dev.broker.server.tls.TestCertificates.KeyFormat;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole ACME flow against Debian's {@code pebble} (Let's Encrypt's test CA) on loopback, with real HTTP-01
 * validation: pebble resolves the test domain through {@code pebble-challtestsrv}'s DNS (every name is
 * 127.0.0.1) and fetches the challenge from Broker's plain-HTTP port. Needs {@code pebble} on the PATH
 * ({@code apt-get install pebble}); without it the test fails, unless {@code BROKER_SKIP_PEBBLE_TESTS=1}.
 */
class AcmePebbleTest {

    private static final String DOMAIN = "broker.test";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Process pebble;
    private Process dns;

    @AfterEach
    void stopPebble() throws InterruptedException {
        for (Process process : new Process[] {pebble, dns}) {
            if (process != null) {
                process.destroy();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void obtainsServesReusesAndRenewsACertificate() throws Exception {
        boolean installed = Http2Test.onPath("pebble") && Http2Test.onPath("pebble-challtestsrv");
        assumeFalse(!installed && "1".equals(System.getenv("BROKER_SKIP_PEBBLE_TESTS")),
                "pebble is not installed and BROKER_SKIP_PEBBLE_TESTS=1");
        assertTrue(installed, "pebble and pebble-challtestsrv must be on the PATH (apt-get install pebble),"
                + " or set BROKER_SKIP_PEBBLE_TESTS=1 to skip this test");

        // pebble's own HTTPS (the ACME directory) uses a certificate of a test CA that only acme_trust names.
        TestCertificates pki = new TestCertificates();
        Issued listener = pki.leaf(TestCertificates.ec());
        Path pebbleDir = Files.createDirectories(dir.resolve("pebble"));
        Files.writeString(pebbleDir.resolve("cert.pem"), TestCertificates.pem(listener.certificate()));
        Files.writeString(pebbleDir.resolve("key.pem"), TestCertificates.keyPem(listener.keys(), KeyFormat.PKCS8));
        Path acmeTrust = pebbleDir.resolve("ca.pem");
        Files.writeString(acmeTrust, TestCertificates.pem(pki.ca.certificate()));
        int acmePort = freePort();
        int managementPort = freePort();
        int dnsPort = freePort();
        int httpPort = freePort();
        Path config = pebbleDir.resolve("pebble-config.json");
        Files.writeString(config, JSON.createObjectNode().set("pebble", JSON.createObjectNode()
                .put("listenAddress", "127.0.0.1:" + acmePort)
                .put("managementListenAddress", "127.0.0.1:" + managementPort)
                .put("certificate", pebbleDir.resolve("cert.pem").toString())
                .put("privateKey", pebbleDir.resolve("key.pem").toString())
                .put("httpPort", httpPort) // where pebble fetches HTTP-01 challenges: Broker's plain-HTTP port
                .put("tlsPort", freePort())
                .put("ocspResponderURL", "")
                .put("externalAccountBindingRequired", false)).toString());
        dns = new ProcessBuilder("pebble-challtestsrv", "-dns01", "127.0.0.1:" + dnsPort, "-http01", "", "-https01", "",
                "-tlsalpn01", "", "-management", "127.0.0.1:" + freePort(), "-defaultIPv4", "127.0.0.1",
                "-defaultIPv6", "")
                .redirectErrorStream(true).redirectOutput(pebbleDir.resolve("challtestsrv.log").toFile()).start();
        ProcessBuilder pebbleCommand = new ProcessBuilder("pebble", "-config", config.toString(),
                "-dnsserver", "127.0.0.1:" + dnsPort)
                .redirectErrorStream(true).redirectOutput(pebbleDir.resolve("pebble.log").toFile());
        pebbleCommand.environment().put("PEBBLE_VA_NOSLEEP", "1");
        pebbleCommand.environment().put("PEBBLE_WFE_NONCEREJECT", "0");
        pebble = pebbleCommand.start();
        HttpClient pebbleClient = HttpClient.newBuilder().sslContext(pki.trustingCa()).build();
        String root = awaitPebbleRoot(pebbleClient, managementPort, pebbleDir);
        X509Certificate pebbleRoot = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(root.getBytes(StandardCharsets.US_ASCII)));

        try (SecureBroker broker = new SecureBroker(dir, TestCertificates.trusting(List.of(pebbleRoot)), c -> c
                .with(Flags.DOMAIN, DOMAIN)
                .with(Flags.ACME_DIRECTORY, "https://127.0.0.1:" + acmePort + "/dir")
                .with(Flags.ACME_TRUST, acmeTrust)
                .with(Flags.HTTP_PORT, httpPort))) {
            // First start: account, order, HTTP-01 challenge, finalization, issuance, in the background.
            ServerCertificate issued = awaitCertificate(broker, Duration.ofSeconds(45), pebbleDir);
            assertTrue(issued.covers(DOMAIN));
            assertTrue(issued.chain().size() >= 2, "the full chain is served");
            Path certs = broker.config().get(Flags.CERTS);
            for (String file : new String[] {"acme-account.pem", "cert.pem", "key.pem"}) {
                assertTrue(Files.isRegularFile(certs.resolve(file)), file);
            }
            // A client that trusts only pebble's root and checks the name accepts the served chain.
            BigInteger firstSerial = issued.leaf().getSerialNumber();
            assertEquals(firstSerial, broker.presentedLeaf(DOMAIN).getSerialNumber());
            assertTrue(broker.raw(DOMAIN, "GET", "/healthz", null).startsWith("HTTP/1.1 200 "));

            String jwt = jwt(broker);
            try (SecureBroker.SseLines stream = broker.rawSse(DOMAIN, jwt)) {
                String before = insert(broker, jwt, 1);
                stream.awaitId(before, Duration.ofSeconds(5));

                // Forced renewal: a new certificate for new connections, the open stream goes on.
                ServerCertificate renewed = broker.server().tls().renewNow().get(60, TimeUnit.SECONDS);
                assertNotEquals(firstSerial, renewed.leaf().getSerialNumber());
                assertEquals(renewed.leaf().getSerialNumber(), broker.presentedLeaf(DOMAIN).getSerialNumber());
                String after = insert(broker, jwt, 2);
                stream.awaitId(after, Duration.ofSeconds(5));
                assertFalse(stream.ended());
            }
            BigInteger renewedSerial = broker.server().tls().current().leaf().getSerialNumber();

            // Restart with the CA gone: the cached certificate is served at once, nobody is asked.
            pebble.destroy();
            assertTrue(pebble.waitFor(5, TimeUnit.SECONDS));
            broker.restart();
            assertNotNull(broker.server().tls().current(), "the cached certificate is used at start");
            assertEquals(renewedSerial, broker.presentedLeaf(DOMAIN).getSerialNumber());
            assertTrue(broker.raw(DOMAIN, "GET", "/healthz", null).startsWith("HTTP/1.1 200 "));
        }
    }

    private static String jwt(SecureBroker broker) throws IOException {
        String created = broker.raw(DOMAIN, "POST", "/create_user", JSON.createObjectNode().put("username", "ada")
                .put("password", "pw").put("admin_token", TestBroker.ADMIN_TOKEN).put("tenant_name", "acme").toString());
        assertTrue(created.startsWith("HTTP/1.1 200 "), created);
        String login = broker.raw(DOMAIN, "POST", "/login", "{\"username\":\"ada\",\"password\":\"pw\"}");
        return field(login, "jwt");
    }

    private static String insert(SecureBroker broker, String jwt, int n) throws IOException {
        String response = broker.raw(DOMAIN, "POST", "/insert", "{\"event\":\"tick\",\"data\":" + n + "}",
                "Authorization", "Bearer " + jwt);
        assertTrue(response.startsWith("HTTP/1.1 200 "), response);
        return field(response, "id");
    }

    private static String field(String response, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]+)\"").matcher(response);
        assertTrue(m.find(), response);
        return m.group(1);
    }

    private static ServerCertificate awaitCertificate(SecureBroker broker, Duration timeout, Path logs)
            throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            ServerCertificate current = broker.server().tls().current();
            if (current != null) {
                return current;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no certificate within " + timeout + "; pebble said:\n"
                + Files.readString(logs.resolve("pebble.log")));
    }

    private String awaitPebbleRoot(HttpClient client, int managementPort, Path logs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                HttpResponse<String> root = client.send(HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + managementPort + "/roots/0")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (root.statusCode() == 200) {
                    return root.body();
                }
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline || !pebble.isAlive()) {
                    throw new AssertionError("pebble did not come up: " + notYet + "\n"
                            + Files.readString(logs.resolve("pebble.log")), notYet);
                }
            }
            Thread.sleep(100);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
