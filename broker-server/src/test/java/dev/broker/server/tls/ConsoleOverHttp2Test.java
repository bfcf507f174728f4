package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.console.ConsoleEndpoint;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.tls.TestCertificates.KeyFormat;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The console and its admin stream over HTTP/2 and TLS, as a browser on an https:// Broker uses them. */
@Timeout(60)
class ConsoleOverHttp2Test {

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

    @Test
    void servesTheConsoleOverHttp2() {
        HttpClient h2 = broker.http2();
        HttpResponse<String> index = broker.send(h2, HttpRequest.newBuilder(broker.uri("/console/")).build());
        assertEquals(HttpClient.Version.HTTP_2, index.version());
        assertEquals(200, index.statusCode());
        assertEquals("text/html; charset=utf-8", index.headers().firstValue("content-type").orElse(null));
        assertEquals(ConsoleEndpoint.CONTENT_SECURITY_POLICY,
                index.headers().firstValue("content-security-policy").orElse(null));
        assertTrue(index.body().contains("<title>Broker console</title>"));

        String etag = index.headers().firstValue("etag").orElseThrow();
        HttpResponse<String> again = broker.send(h2, HttpRequest.newBuilder(broker.uri("/console/"))
                .header("If-None-Match", etag).build());
        assertEquals(304, again.statusCode());
        assertEquals("", again.body());

        HttpResponse<String> head = broker.send(h2, HttpRequest.newBuilder(broker.uri("/console/console.js"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    @Test
    void theAdminStreamWorksOverHttp2() throws Exception {
        HttpClient h2 = broker.http2();
        String jwt = broker.userToken("ada", "acme");
        String first = broker.insert(h2, jwt, "before", "{\"n\":0}");
        HttpResponse<InputStream> response = h2.send(HttpRequest.newBuilder(broker.uri("/admin/sse?tenant=acme"))
                .header("Authorization", "Bearer " + TestBroker.ADMIN_TOKEN).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (SecureBroker.SseLines stream = new SecureBroker.SseLines(response)) {
            assertEquals(HttpClient.Version.HTTP_2, response.version());
            assertEquals(200, response.statusCode());
            stream.awaitId(first, Duration.ofSeconds(10));
            String live = broker.insert(h2, jwt, "live", "{\"n\":1}");
            stream.awaitId(live, Duration.ofSeconds(10));
        }
        HttpResponse<String> refused = broker.send(h2, HttpRequest.newBuilder(broker.uri("/admin/sse?tenant=acme"))
                .header("Authorization", "Bearer wrong").build());
        assertEquals(401, refused.statusCode());
    }
}
