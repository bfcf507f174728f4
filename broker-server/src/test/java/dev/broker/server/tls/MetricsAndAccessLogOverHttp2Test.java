package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.tls.TestCertificates.KeyFormat;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} and the access log work on HTTP/2 streams as on HTTP/1.1 connections. */
class MetricsAndAccessLogOverHttp2Test {

    @TempDir
    Path dir;

    @Test
    void scrapesOverHttp2AndLogsItsStreams() throws Exception {
        TestCertificates pki = new TestCertificates();
        pki.install(dir.resolve("certs"), pki.leaf(TestCertificates.ec()), KeyFormat.PKCS8);
        Path accessLog = dir.resolve("access.log");
        try (SecureBroker broker = new SecureBroker(dir, pki.trustingCa(), config -> config
                .with(Flags.ACCESS_LOG, accessLog).with(Flags.LOG_FORMAT, "json"))) {
            HttpClient h2 = broker.http2();
            String jwt = broker.userToken("ada", "acme");
            String first = broker.insert(h2, jwt, "hello", "{}");
            try (SecureBroker.SseLines stream = broker.sse(h2, jwt)) {
                stream.awaitId(first, Duration.ofSeconds(5));
            }

            HttpResponse<String> scrape = broker.send(h2, HttpRequest.newBuilder(broker.uri("/metrics"))
                    .header("Authorization", "Bearer " + TestBroker.ADMIN_TOKEN).GET().build());

            assertEquals(HttpClient.Version.HTTP_2, scrape.version());
            assertEquals(200, scrape.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.headers().firstValue("content-type")
                    .orElse(null));
            assertTrue(scrape.body().contains("broker_http_responses_total{code=\"200\",route=\"INSERT\"} 1.0"),
                    scrape.body());
            awaitLine(accessLog, "\"route\":\"SSE\"");
        }
        String log = Files.readString(accessLog, StandardCharsets.UTF_8);
        assertTrue(log.contains("\"path\":\"/insert\",\"route\":\"INSERT\",\"status\":200"), log);
        assertTrue(log.contains("\"protocol\":\"h2\""), log);
        assertTrue(log.contains("\"route\":\"SSE\",\"status\":200"), log);
    }

    /** Polls the file until it holds {@code text} (the writer flushes when its queue is empty). */
    private static void awaitLine(Path file, String text) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no line with " + text + " in " + file);
    }
}
