package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.frame;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Who may subscribe, with which credential, and what they see: their tenant's events only, until revoked. */
@Timeout(60)
class SseAccessTest {

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;
    private User alice;

    @BeforeEach
    void start() {
        broker = brokers.start();
        alice = newUser(broker, "acme");
    }

    private void assertStreamsTheSnapshot(SseClient stream, long id) {
        assertEquals(200, stream.status());
        assertEquals(new SseClient.Event(Long.toString(id), "hello", "1"), stream.next(PROMPTLY));
    }

    @Test
    void acceptsABearerToken() {
        long id = insert(broker, alice, "hello", "1");
        try (SseClient stream = SseClient.connect(broker.port(), "/sse", alice.bearer())) {
            assertStreamsTheSnapshot(stream, id);
        }
    }

    @Test
    void acceptsBasicCredentials() {
        long id = insert(broker, alice, "hello", "1");
        try (SseClient stream = SseClient.connect(broker.port(), "/sse", alice.basic())) {
            assertStreamsTheSnapshot(stream, id);
        }
    }

    @Test
    void acceptsTheTokenAsAccessTokenQueryParameter() {
        long id = insert(broker, alice, "hello", "1");
        String query = "?access_token=" + URLEncoder.encode(alice.jwt(), StandardCharsets.UTF_8);
        try (SseClient stream = SseClient.connect(broker.port(), "/sse" + query)) {
            assertStreamsTheSnapshot(stream, id);
        }
    }

    @Test
    void accessTokenCombinesWithLastEventIdQueryParameter() {
        long first = insert(broker, alice, "hello", "1");
        long second = insert(broker, alice, "hello", "2");
        String query = "?access_token=" + alice.jwt() + "&last_event_id=0";
        try (SseClient stream = SseClient.connect(broker.port(), "/sse" + query)) {
            assertEquals(200, stream.status());
            stream.next(2, PROMPTLY);
            assertEquals(frame(first, "hello", "1") + frame(second, "hello", "2"), stream.rawBodyText());
        }
    }

    @Test
    void refusesMissingOrBadCredentialsWith401() {
        String[][] attempts = {
            {},
            {"Authorization", "Bearer not.a.jwt"},
            {"Authorization", "Bearer " + alice.jwt() + "x"},
            {"Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                    (alice.username() + ":wrong").getBytes(StandardCharsets.UTF_8))},
        };
        for (String[] headers : attempts) {
            try (SseClient stream = SseClient.connect(broker.port(), "/sse", headers)) {
                assertEquals(401, stream.status(), "with " + String.join(" ", headers));
                assertTrue(stream.body().contains("\"error\""), stream.body());
            }
        }
        try (SseClient stream = SseClient.connect(broker.port(), "/sse?access_token=" + alice.jwt() + "x")) {
            assertEquals(401, stream.status());
        }
    }

    @Test
    void neverSendsEventsOfAnotherTenant() {
        User mallory = newUser(broker, "other");
        insert(broker, mallory, "secret", "\"of the other tenant\"");
        long mine = insert(broker, alice, "mine", "1");
        try (SseClient stream = subscribe(broker, alice, "");
             SseClient replay = subscribe(broker, alice, "", "Last-Event-ID", "0");
             SseClient theirs = subscribe(broker, mallory, "")) {
            assertEquals(Long.toString(mine), stream.next(PROMPTLY).id());
            assertEquals(Long.toString(mine), replay.next(PROMPTLY).id());
            assertEquals("secret", theirs.next(PROMPTLY).name());

            long secret = insert(broker, mallory, "secret", "2");
            long live = insert(broker, alice, "mine", "3");
            // The other tenant's live event was published before ours: had it leaked, it would precede it.
            assertEquals(Long.toString(live), stream.next(PROMPTLY).id());
            assertEquals(Long.toString(live), replay.next(PROMPTLY).id());
            assertEquals(Long.toString(secret), theirs.next(PROMPTLY).id());

            String expected = frame(mine, "mine", "1") + frame(live, "mine", "3");
            assertEquals(expected, stream.rawBodyText());
            assertEquals(expected, replay.rawBodyText());
        }
    }

    @Test
    void revocationClosesTheUsersStreamsWithinASecondAndSparesTenantMates() {
        User bob = newUser(broker, "acme");
        long id = insert(broker, alice, "hello", "1");
        try (SseClient aliceBearer = subscribe(broker, alice, "");
             SseClient aliceBasic = SseClient.connect(broker.port(), "/sse", alice.basic());
             SseClient aliceResumed = subscribe(broker, alice, "", "Last-Event-ID", Long.toString(id));
             SseClient bobStream = subscribe(broker, bob, "")) {
            assertEquals(Long.toString(id), aliceBearer.next(PROMPTLY).id());
            assertEquals(Long.toString(id), aliceBasic.next(PROMPTLY).id());
            assertEquals(Long.toString(id), bobStream.next(PROMPTLY).id());
            long live = insert(broker, alice, "hello", "2");
            assertEquals(Long.toString(live), aliceResumed.next(PROMPTLY).id());

            HttpResult revoked = broker.post("/revoke_user",
                    "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"username\":\"" + alice.username() + "\"}");
            assertEquals(200, revoked.status(), revoked.body());
            long revokedAt = System.nanoTime();
            for (SseClient stream : new SseClient[] {aliceBearer, aliceBasic, aliceResumed}) {
                long leftMillis = Math.max(0, 1_000 - (System.nanoTime() - revokedAt) / 1_000_000);
                assertTrue(stream.awaitClosed(Duration.ofMillis(leftMillis)),
                        "a revoked user's stream must close within a second of the revocation");
            }

            // The tenant-mate's stream is untouched: still open, and still fed.
            long after = insert(broker, bob, "hello", "3");
            assertEquals(Long.toString(live), bobStream.next(PROMPTLY).id());
            assertEquals(Long.toString(after), bobStream.next(PROMPTLY).id());
            assertFalse(bobStream.isClosed());

            try (SseClient again = SseClient.connect(broker.port(), "/sse", alice.bearer())) {
                assertEquals(401, again.status());
            }
        }
    }
}
