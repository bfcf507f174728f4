package dev.broker.server.admin;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.tokens;
import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.LogCapture;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseClient.Event;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.net.http.HttpRequest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code GET /admin/sse?tenant=…} and {@code POST /admin/insert?tenant=…}: the operator watches and writes a tenant's
 * events with the admin token in an Authorization header, over real sockets, exactly as a user of the tenant would.
 */
@Timeout(60)
class AdminSseTest {

    private static final String[] ADMIN = {"Authorization", "Bearer " + TestBroker.ADMIN_TOKEN};

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();
    @RegisterExtension
    final LogCapture log = new LogCapture();

    private static SseClient watch(TestBroker broker, String tenant, String... headers) {
        return SseClient.connect(broker.port(), "/admin/sse?tenant=" + tenant, headers);
    }

    @Test
    void streamsTheTenantsSnapshotThenLiveEventsAndNothingOfOtherTenants() {
        TestBroker broker = brokers.start();
        User alice = newUser(broker, "acme");
        User bob = newUser(broker, "globex");
        insert(broker, alice, "greeting", "{\"n\":1}");
        long status = insert(broker, alice, "status", "\"up\"");
        long greeting = insert(broker, alice, "greeting", "{\"n\":2}");
        insert(broker, bob, "greeting", "{\"other\":true}");

        try (SseClient stream = watch(broker, "acme", ADMIN)) {
            assertEquals(200, stream.status());
            assertEquals("text/event-stream", stream.header("content-type"));
            assertEquals(List.of(new Event(Long.toString(status), "status", "\"up\""),
                    new Event(Long.toString(greeting), "greeting", "{\"n\":2}")), stream.next(2, PROMPTLY));

            insert(broker, bob, "elsewhere", "1");
            long live = insert(broker, alice, "live", "[1, 2]");
            assertEquals(new Event(Long.toString(live), "live", "[1,2]"), stream.next(PROMPTLY));
        }
    }

    @Test
    void resumesAfterLastEventId() {
        TestBroker broker = brokers.start();
        User alice = newUser(broker, "acme");
        long first = insert(broker, alice, "a", "1");
        long second = insert(broker, alice, "a", "2");
        long third = insert(broker, alice, "b", "3");

        try (SseClient stream = watch(broker, "acme", ADMIN[0], ADMIN[1], "Last-Event-ID", Long.toString(first))) {
            assertEquals(List.of(new Event(Long.toString(second), "a", "2"), new Event(Long.toString(third), "b", "3")),
                    stream.next(2, PROMPTLY));
        }
    }

    @Test
    void sendsHeartbeats() {
        TestBroker broker = brokers.start(config -> config.with(Flags.HEARTBEAT, 1));
        try (SseClient stream = watch(broker, "quiet", ADMIN)) {
            assertEquals(200, stream.status());
            assertNotNull(stream.nextComment(PROMPTLY));
        }
    }

    @Test
    void refusesAWrongOrMissingAdminToken() {
        TestBroker broker = brokers.start();
        User alice = newUser(broker, "acme");
        List<String[]> refused = List.of(
                new String[0],
                new String[] {"Authorization", "Bearer wrong-token"},
                new String[] {"Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                        ("admin:" + TestBroker.ADMIN_TOKEN).getBytes(java.nio.charset.StandardCharsets.UTF_8))},
                new String[] {"Authorization", TestBroker.ADMIN_TOKEN},
                alice.bearer());
        for (String[] headers : refused) {
            try (SseClient stream = watch(broker, "acme", headers)) {
                assertEquals(401, stream.status(), String.join(" ", headers));
                assertTrue(stream.body().contains("\"error\""), stream.body());
            }
            assertError(401, broker.post("/admin/insert?tenant=acme", "{\"event\":\"x\",\"data\":1}", headers));
            assertError(401, broker.get("/admin/stats", headers));
        }
        // The token is taken from the header only: never from a URL, where logs and histories keep it.
        try (SseClient stream = SseClient.connect(broker.port(),
                "/admin/sse?tenant=acme&access_token=" + TestBroker.ADMIN_TOKEN)) {
            assertEquals(401, stream.status());
        }
        // Neither the token nor the tenant reaches a log line.
        assertEquals(List.of(), log.linesContaining(TestBroker.ADMIN_TOKEN));
        assertEquals(List.of(), log.linesContaining("wrong-token"));
        assertEquals(List.of(), log.linesContaining("acme"));
    }

    @Test
    void needsATenant() {
        TestBroker broker = brokers.start();
        for (String query : List.of("", "?tenant=", "?other=acme", "?tenant=" + "t".repeat(1025))) {
            try (SseClient stream = SseClient.connect(broker.port(), "/admin/sse" + query, ADMIN)) {
                assertEquals(400, stream.status(), query);
                assertTrue(stream.body().contains("tenant"), stream.body());
            }
            assertError(400, broker.post("/admin/insert" + query, "{\"event\":\"x\",\"data\":1}", ADMIN));
        }
    }

    @Test
    void anAdminStreamOutlivesTheRevocationOfTheTenantsUsers() {
        TestBroker broker = brokers.start();
        User alice = newUser(broker, "acme");
        try (SseClient mine = subscribe(broker, alice, "");
             SseClient admin = watch(broker, "acme", ADMIN)) {
            assertEquals(200, admin.status());
            assertEquals(200, broker.post("/revoke_user", "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN
                    + "\",\"username\":\"" + alice.username() + "\"}").status());
            assertTrue(mine.awaitClosed(PROMPTLY), "the revoked user's stream stays open");

            HttpResult inserted = broker.post("/admin/insert?tenant=acme", "{\"event\":\"after\",\"data\":{\"x\":1}}",
                    ADMIN);
            assertEquals(200, inserted.status(), inserted.body());
            String id = inserted.json().get("id").asText();
            assertEquals("after", inserted.json().get("event").asText());
            assertEquals(new Event(id, "after", "{\"x\":1}"), admin.next(PROMPTLY));
            assertFalse(admin.isClosed());
        }
    }

    @Test
    void anAdminInsertReachesTheTenantsUsersAsTheirOwnWould() {
        TestBroker broker = brokers.start();
        User alice = newUser(broker, "acme");
        try (SseClient mine = subscribe(broker, alice, "")) {
            HttpResult inserted = broker.post("/admin/insert?tenant=acme", "{\"event\":\"ping\",\"data\":null}", ADMIN);
            assertEquals(200, inserted.status(), inserted.body());
            assertEquals(new Event(inserted.json().get("id").asText(), "ping", "null"), mine.next(PROMPTLY));
        }
        assertError(400, broker.post("/admin/insert?tenant=acme", "{\"event\":\"ping\"}", ADMIN));
        assertError(405, broker.get("/admin/insert?tenant=acme", ADMIN));
    }

    @Test
    void preflightAllowsTheAuthorizationHeader() {
        TestBroker broker = brokers.start();
        HttpResult preflight = broker.send(broker.request("/admin/sse?tenant=acme",
                        "Origin", "https://app.example", "Access-Control-Request-Method", "GET",
                        "Access-Control-Request-Headers", "authorization, last-event-id")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(204, preflight.status());
        assertTrue(tokens(preflight.header("access-control-allow-headers")).containsAll(
                List.of("authorization", "last-event-id")), preflight.header("access-control-allow-headers"));
        assertTrue(tokens(preflight.header("access-control-allow-methods")).contains("get"));
        assertEquals("*", preflight.header("access-control-allow-origin"));
    }
}
