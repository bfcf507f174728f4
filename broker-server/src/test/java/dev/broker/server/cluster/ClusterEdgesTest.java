package dev.broker.server.cluster;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
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
import dev.broker.storage.testing.NatsServers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Broker edges over one 3-node JetStream cluster (three replicas): what one edge answers, the other sees —
 * events in the same order, snapshots that include inserts answered elsewhere, one owner per username, revocations.
 */
@Timeout(120)
class ClusterEdgesTest {

    @TempDir
    static Path natsDir;
    private static NatsServers nats;

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker a;
    private TestBroker b;

    @BeforeAll
    static void startNats() {
        nats = NatsServers.cluster(natsDir);
    }

    @AfterAll
    static void stopNats() {
        if (nats != null) {
            nats.close();
        }
    }

    @BeforeEach
    void startEdges() {
        String prefix = Edges.freshPrefix();
        a = Edges.start(brokers, nats, prefix, 3);
        b = Edges.start(brokers, nats, prefix, 3);
    }

    @Test
    void insertsOnEitherEdgeReachSubscribersOnBothInTheSameOrder() throws Exception {
        User alice = newUser(a, "acme");
        Edges.awaitKnown(b, alice);
        int perEdge = 40;
        try (SseClient onA = subscribe(a, alice, "");
             SseClient onB = subscribe(b, alice, "")) {
            ExecutorService inserters = Executors.newFixedThreadPool(2);
            try {
                Future<List<Long>> fromA = inserters.submit(() -> insertMany(a, alice, "from-a", perEdge));
                Future<List<Long>> fromB = inserters.submit(() -> insertMany(b, alice, "from-b", perEdge));
                List<Long> ids = new ArrayList<>(fromA.get());
                ids.addAll(fromB.get());
                Collections.sort(ids);
                long last = ids.get(ids.size() - 1);
                List<SseClient.Event> seenOnA = onA.nextUntilId(last, PROMPTLY);
                List<SseClient.Event> seenOnB = onB.nextUntilId(last, PROMPTLY);
                assertEquals(ids, seenOnA.stream().map(SseClient.Event::idAsLong).toList(),
                        "edge A's subscriber got every event, in id order, once");
                assertEquals(seenOnA, seenOnB, "both edges deliver the same events in the same order");
            } finally {
                inserters.shutdownNow();
            }
        }
    }

    @Test
    void aStreamOpenedOnOneEdgeStartsFromASnapshotIncludingAnInsertAnsweredOnTheOther() {
        User alice = newUser(a, "acme");
        Edges.awaitKnown(b, alice);
        for (int i = 0; i < 30; i++) {
            TestBroker writer = i % 2 == 0 ? a : b;
            TestBroker reader = i % 2 == 0 ? b : a;
            long id = insert(writer, alice, "counter", Integer.toString(i));
            try (SseClient stream = subscribe(reader, alice, "")) {
                SseClient.Event first = stream.next(PROMPTLY);
                assertEquals(new SseClient.Event(Long.toString(id), "counter", Integer.toString(i)), first,
                        "round " + i + ": the snapshot must include the insert answered on the other edge");
            }
        }
    }

    @Test
    void aResumeOnTheOtherEdgeGetsEveryLaterEventOnce() {
        User alice = newUser(a, "acme");
        Edges.awaitKnown(b, alice);
        long first = insert(a, alice, "e", "1");
        long second = insert(b, alice, "e", "2");
        long third = insert(a, alice, "f", "3");
        try (SseClient stream = subscribe(b, alice, "", "Last-Event-ID", Long.toString(first))) {
            assertEquals(List.of(second, third), stream.next(2, PROMPTLY).stream()
                    .map(SseClient.Event::idAsLong).toList());
            long live = insert(a, alice, "e", "4");
            assertEquals(live, stream.next(PROMPTLY).idAsLong());
        }
    }

    @Test
    void concurrentCreationsOfOneUsernameOnTwoEdgesGiveOne200AndOne409() throws Exception {
        for (int round = 0; round < 3; round++) {
            String body = "{\"username\":\"racer" + round + "\",\"password\":\"pw\",\"admin_token\":\""
                    + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"t" + round + "\"}";
            CompletableFuture<HttpResult> onA = CompletableFuture.supplyAsync(() -> a.post("/create_user", body));
            CompletableFuture<HttpResult> onB = CompletableFuture.supplyAsync(() -> b.post("/create_user", body));
            List<Integer> statuses = new ArrayList<>(List.of(onA.get().status(), onB.get().status()));
            Collections.sort(statuses);
            assertEquals(List.of(200, 409), statuses, "round " + round + ": " + onA.get().body() + " / "
                    + onB.get().body());
        }
    }

    @Test
    void aRevocationOnOneEdgeClosesTheUsersStreamsOnTheOtherWithinASecondAndRefusesTheirCredentials() {
        User alice = newUser(a, "acme");
        User bob = newUser(a, "acme");
        Edges.awaitKnown(b, alice);
        Edges.awaitKnown(b, bob);
        long id = insert(a, alice, "hello", "1");
        try (SseClient bearer = subscribe(b, alice, "");
             SseClient basic = SseClient.connect(b.port(), "/sse", alice.basic());
             SseClient bobs = subscribe(b, bob, "")) {
            assertEquals(id, bearer.next(PROMPTLY).idAsLong());
            assertEquals(id, basic.next(PROMPTLY).idAsLong());
            assertEquals(id, bobs.next(PROMPTLY).idAsLong());

            HttpResult revoked = a.post("/revoke_user", adminBody(alice));
            assertEquals(200, revoked.status(), revoked.body());
            long revokedAt = System.nanoTime();
            for (SseClient stream : new SseClient[] {bearer, basic}) {
                long leftMillis = Math.max(0, 1_000 - (System.nanoTime() - revokedAt) / 1_000_000);
                assertTrue(stream.awaitClosed(Duration.ofMillis(leftMillis)),
                        "a stream on the other edge must close within a second of the revocation");
            }
            assertEquals(401, b.get("/verify", alice.bearer()).status(), "the JWT is refused on the other edge");
            assertEquals(401, b.get("/verify", alice.basic()).status(), "Basic is refused on the other edge");
            try (SseClient again = SseClient.connect(b.port(), "/sse", alice.basic())) {
                assertEquals(401, again.status());
            }
            assertFalse(bobs.isClosed(), "the tenant-mate's stream stays open");

            assertEquals(200, b.post("/unrevoke_user", adminBody(alice)).status());
            Edges.awaitStatus(() -> a.get("/verify", alice.bearer()), 200, Duration.ofSeconds(5));
        }
    }

    private static String adminBody(User user) {
        return "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"username\":\"" + user.username() + "\"}";
    }

    private static List<Long> insertMany(TestBroker edge, User user, String name, int count) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(insert(edge, user, name, Integer.toString(i)));
        }
        for (int i = 1; i < ids.size(); i++) {
            assertTrue(ids.get(i) > ids.get(i - 1), "ids of one client's inserts increase: " + ids);
        }
        return ids;
    }
}
