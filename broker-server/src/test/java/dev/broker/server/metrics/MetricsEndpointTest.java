package dev.broker.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpAssertions;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /metrics} on a real server: who may scrape it, and that it counts what happened. */
class MetricsEndpointTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    @Test
    void refusesAScrapeWithoutTheAdminToken() {
        TestBroker broker = brokers.start();

        HttpAssertions.assertError(401, broker.get("/metrics"));
        HttpAssertions.assertError(401, broker.get("/metrics", "Authorization", "Bearer wrong"));
        HttpAssertions.assertError(401, broker.get("/metrics", "Authorization", "Basic "
                + Base64.getEncoder().encodeToString(("admin:" + TestBroker.ADMIN_TOKEN).getBytes(StandardCharsets.UTF_8))));

        HttpResult scrape = scrape(broker);
        assertEquals(200, scrape.status());
        // The refusals above are counted as wrong admin tokens.
        assertEquals(3, value(scrape.body(), "broker_auth_failures_total{kind=\"bad_admin_token\"}"));
    }

    @Test
    void servesAnyoneWhenPublic() {
        TestBroker broker = brokers.start(config -> config.with(Flags.METRICS_PUBLIC, true));

        HttpResult scrape = broker.get("/metrics");

        assertEquals(200, scrape.status());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.header("content-type"));
        assertTrue(scrape.body().contains("broker_sse_streams"), scrape.body());
    }

    @Test
    void countsInsertsDeliveriesStreamsAndFailuresAndPassesPromtool() throws Exception {
        TestBroker broker = brokers.start();
        broker.createUser("ada", "s3cret", "acme");
        String jwt = broker.login("ada", "s3cret");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, broker.insert(jwt, "before" + i, "{\"n\":" + i + "}").status());
        }
        try (SseClient stream = SseClient.connect(broker.port(), "/sse", "Authorization", "Bearer " + jwt);
             SseClient second = SseClient.connect(broker.port(), "/sse", "Authorization", "Bearer " + jwt)) {
            stream.next(3, WAIT);
            second.next(3, WAIT);
            assertEquals(200, broker.insert(jwt, "live", "{\"n\":3}").status());
            assertEquals(200, broker.insert(jwt, "live", "{\"n\":4}").status());
            stream.next(2, WAIT);
            second.next(2, WAIT);
            HttpAssertions.assertError(401, broker.get("/verify", "Authorization", "Bearer not.a.jwt"));
            HttpAssertions.assertError(401, broker.post("/login", "{\"username\":\"ada\",\"password\":\"wrong\"}"));
            HttpAssertions.assertError(401, broker.get("/verify"));
            HttpAssertions.assertError(404, broker.get("/nowhere?secret=1"));

            HttpResult scrape = scrape(broker);

            assertEquals(200, scrape.status());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.header("content-type"));
            String text = scrape.body();
            assertEquals(5, value(text, "broker_inserts_total"));
            assertEquals(2, value(text, "broker_sse_streams"));
            // Two live events to each of two streams; the snapshots are history, not deliveries.
            assertEquals(4, value(text, "broker_deliveries_total"));
            assertTrue(value(text, "broker_delivered_bytes_total") >= 4 * "id:4\nevent:live\ndata:{\"n\":4}\n\n".length(),
                    text);
            assertEquals(1, value(text, "broker_auth_failures_total{kind=\"bad_token\"}"));
            assertEquals(1, value(text, "broker_auth_failures_total{kind=\"bad_password\"}"));
            assertEquals(1, value(text, "broker_auth_failures_total{kind=\"missing\"}"));
            assertEquals(0, value(text, "broker_auth_failures_total{kind=\"revoked\"}"));
            assertEquals(5, value(text, "broker_http_responses_total{code=\"200\",route=\"INSERT\"}"));
            assertEquals(2, value(text, "broker_http_responses_total{code=\"200\",route=\"SSE\"}"));
            assertEquals(1, value(text, "broker_http_responses_total{code=\"404\",route=\"none\"}"));
            assertTrue(value(text, "broker_store_commit_seconds_count") >= 1, text);
            assertEquals(5, value(text, "broker_store_commit_batch_size_sum"));
            assertEquals(2, value(text, "broker_snapshot_cache_hits_total") + value(text,
                    "broker_snapshot_cache_misses_total"));
            assertTrue(value(text, "broker_connections") >= 2, text);
            assertTrue(value(text, "jvm_memory_used_bytes{area=\"heap\"}") > 0, text);
            assertTrue(text.contains("jvm_gc_collection_seconds_count"), text);
            assertTrue(value(text, "jvm_threads_current") > 0, text);
            assertTrue(!text.contains("acme") && !text.contains("ada") && !text.contains("secret"), text);
            promtoolAccepts(text);
        }
    }

    private static HttpResult scrape(TestBroker broker) {
        return broker.get("/metrics", "Authorization", "Bearer " + TestBroker.ADMIN_TOKEN);
    }

    /** The value of the sample {@code series} (name and labels exactly as written); fails when absent. */
    static double value(String exposition, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(exposition);
        if (!m.find()) {
            throw new AssertionError("no sample " + series + " in\n" + exposition);
        }
        return Double.parseDouble(m.group(1));
    }

    /** {@code promtool check metrics} (Debian's prometheus package) finds nothing wrong. */
    static void promtoolAccepts(String exposition) throws IOException, InterruptedException {
        Path promtool = Path.of("/usr/bin/promtool");
        assertTrue(Files.isExecutable(promtool), "promtool is missing: apt-get install prometheus");
        Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = check.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(check.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, check.exitValue(), "promtool check metrics: " + output);
        assertEquals("", output.strip(), "promtool check metrics complains:\n" + output);
    }
}
