package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.tls.TestCertificates.KeyFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What clients get wrong on the TLS port: each is refused clearly, and the server keeps serving. */
class BadInputTest {

    @TempDir
    Path dir;

    private final TestCertificates pki = new TestCertificates();
    private SecureBroker broker;

    @BeforeEach
    void start() throws IOException {
        pki.install(dir.resolve("certs"), pki.leaf(TestCertificates.ec()), KeyFormat.PKCS8);
        broker = new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity());
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private void assertStillServing() {
        assertEquals(200, broker.send(broker.client(HttpClient.Version.HTTP_2),
                HttpRequest.newBuilder(broker.uri("/healthz")).build()).statusCode());
    }

    @Test
    void plainHttpOnTheTlsPortGetsA400ThatSaysHttps() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", broker.port())) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            assertTrue(answer.contains("Connection: close") && answer.contains("{\"error\":\"this port speaks HTTPS"), answer);
        }
        assertStillServing();
    }

    @Test
    void garbageInsteadOfAHandshakeIsClosed() throws IOException {
        byte[] garbage = new byte[4096];
        new Random(42).nextBytes(garbage);
        garbage[0] = 0x16; // looks like a TLS handshake record, then nonsense
        garbage[1] = 0x03;
        garbage[2] = 0x01;
        try (Socket socket = new Socket("127.0.0.1", broker.port())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(garbage);
            } catch (IOException closedEarly) {
                // the server may close before it has read it all
            }
            InputStream in = socket.getInputStream();
            try {
                while (in.read() >= 0) {
                    // an alert, if anything, then the close
                }
            } catch (IOException reset) {
                // closed
            }
        }
        assertStillServing();
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateFailsItsHandshakeAndOthersGoOn() throws Exception {
        SSLContext trustsSomethingElse = new TestCertificates().trustingCa();
        try (SSLSocket socket = (SSLSocket) trustsSomethingElse.getSocketFactory().createSocket("127.0.0.1", broker.port())) {
            assertThrows(SSLException.class, socket::startHandshake);
        }
        assertStillServing();
    }

    @Test
    void tlsBelow12IsRefused() throws Exception {
        try (SSLSocket socket = (SSLSocket) pki.trustingCa().getSocketFactory().createSocket("127.0.0.1", broker.port())) {
            socket.setEnabledProtocols(new String[] {"TLSv1.1"});
            assertThrows(IOException.class, socket::startHandshake);
        } catch (IllegalArgumentException notEvenOffered) {
            // this JDK cannot speak TLS 1.1 at all, which proves nothing but is fine
        }
        assertStillServing();
    }

    @Test
    void aDomainWithoutThePlainHttpPortIsAClearStartUpError(@TempDir Path other) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new SecureBroker(other,
                pki.trustingCa(), c -> c.with(Flags.DOMAIN, "broker.example.com")));
        assertTrue(e.getMessage().contains("--http_port") && e.getMessage().contains("HTTP-01"), e.getMessage());
    }

    @Test
    void theHttpPortRedirectsToHttpsAndTheTlsPortStillServes(@TempDir Path other) throws IOException {
        pki.install(other.resolve("certs"), pki.leaf(TestCertificates.ec()), KeyFormat.PKCS8);
        try (SecureBroker withRedirect = new SecureBroker(other, pki.trustingCa(), c -> c.with(Flags.HTTP_PORT, 0))) {
            int httpPort = withRedirect.server().tls().httpPort();
            try (Socket socket = new Socket("127.0.0.1", httpPort)) {
                socket.setSoTimeout(5000);
                socket.getOutputStream().write(("GET /sse?x=1 HTTP/1.1\r\nHost: broker.example.com:" + httpPort
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(answer.startsWith("HTTP/1.1 308 "), answer);
                assertTrue(answer.contains("location: https://broker.example.com:" + withRedirect.port() + "/sse?x=1")
                        || answer.contains("Location: https://broker.example.com:" + withRedirect.port() + "/sse?x=1"), answer);
            }
            assertEquals(200, withRedirect.send(withRedirect.client(HttpClient.Version.HTTP_1_1),
                    HttpRequest.newBuilder(withRedirect.uri("/healthz")).build()).statusCode());
        }
    }
}
