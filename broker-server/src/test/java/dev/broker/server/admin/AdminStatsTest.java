package dev.broker.server.admin;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.fieldNames;
import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /admin/stats}: open streams per tenant, inserts and deliveries per second, uptime. */
@Timeout(60)
class AdminStatsTest {

    private static final String[] ADMIN = {"Authorization", "Bearer " + TestBroker.ADMIN_TOKEN};

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private static JsonNode stats(TestBroker broker) {
        HttpResult result = broker.get("/admin/stats", ADMIN);
        assertEquals(200, result.status(), result.body());
        assertEquals("application/json", result.header("content-type"));
        return result.json();
    }

    @Test
    void countsOpenStreamsPerTenantMostFirst() {
        TestBroker broker = brokers.start();
        User alice = newUser(broker, "acme");
        User bob = newUser(broker, "globex");
        List<SseClient> streams = new ArrayList<>();
        try {
            streams.add(subscribe(broker, alice, ""));
            streams.add(subscribe(broker, alice, ""));
            streams.add(SseClient.connect(broker.port(), "/admin/sse?tenant=acme", ADMIN));
            streams.add(subscribe(broker, bob, ""));

            JsonNode stats = stats(broker);
            assertEquals(Set.of("uptime_seconds", "open_streams", "inserts_per_second", "deliveries_per_second",
                    "rate_window_seconds"), fieldNames(stats));
            JsonNode open = stats.get("open_streams");
            assertEquals(4, open.get("total").asInt(), stats.toString());
            assertEquals(2, open.get("tenants").asInt(), stats.toString());
            assertEquals("acme", open.get("top").get(0).get("tenant").asText(), stats.toString());
            assertEquals(3, open.get("top").get(0).get("streams").asInt(), stats.toString());
            assertEquals("globex", open.get("top").get(1).get("tenant").asText(), stats.toString());
            assertEquals(1, open.get("top").get(1).get("streams").asInt(), stats.toString());
            assertTrue(stats.get("uptime_seconds").asLong() >= 0);
        } finally {
            streams.forEach(SseClient::close);
        }
    }

    @Test
    void namesAtMostTheTopTenantsButCountsThemAll() {
        TestBroker broker = brokers.start();
        List<SseClient> streams = new ArrayList<>();
        try {
            int tenants = AdminStats.TOP_TENANTS + 3;
            for (int i = 0; i < tenants; i++) {
                SseClient stream = SseClient.connect(broker.port(), "/admin/sse?tenant=t" + i, ADMIN);
                assertEquals(200, stream.status());
                streams.add(stream);
            }
            JsonNode open = stats(broker).get("open_streams");
            assertEquals(tenants, open.get("total").asInt());
            assertEquals(tenants, open.get("tenants").asInt());
            assertEquals(AdminStats.TOP_TENANTS, open.get("top").size());
        } finally {
            streams.forEach(SseClient::close);
        }
    }

    @Test
    void ratesRiseWithInsertsAndDeliveries() throws InterruptedException {
        TestBroker broker = brokers.start();
        User alice = newUser(broker, "acme");
        try (SseClient one = subscribe(broker, alice, ""); SseClient two = subscribe(broker, alice, "")) {
            for (int i = 0; i < 10; i++) {
                insert(broker, alice, "tick", Integer.toString(i));
            }
            one.next(10, PROMPTLY);
            two.next(10, PROMPTLY);
            // The rates come from samples taken once a second: poll until they show the inserts.
            long deadline = System.nanoTime() + PROMPTLY.toNanos();
            JsonNode stats = stats(broker);
            while (stats.get("deliveries_per_second").asDouble() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
                stats = stats(broker);
            }
            assertTrue(stats.get("inserts_per_second").asDouble() > 0, stats.toString());
            assertTrue(stats.get("deliveries_per_second").asDouble() > stats.get("inserts_per_second").asDouble(),
                    "two streams get every insert: " + stats);
            assertTrue(stats.get("rate_window_seconds").asDouble() > 0, stats.toString());
        }
    }

    @Test
    void needsTheAdminToken() {
        TestBroker broker = brokers.start();
        assertError(401, broker.get("/admin/stats"));
        assertError(401, broker.get("/admin/stats", "Authorization", "Bearer nope"));
        assertError(405, broker.post("/admin/stats", "{}", ADMIN));
    }
}
