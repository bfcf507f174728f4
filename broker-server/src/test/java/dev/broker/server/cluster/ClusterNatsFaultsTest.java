package dev.broker.server.cluster;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of NATS under two edges: a JetStream node killed during inserts loses nothing acknowledged; all of NATS gone
 * makes the edges answer 503 (streams stay open), and once it is back they work again by themselves and the streams
 * catch up without a gap. Each test has a 3-node cluster of its own.
 */
@Timeout(180)
class ClusterNatsFaultsTest {

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    @TempDir
    Path natsDir;
    private NatsServers nats;
    private TestBroker a;
    private TestBroker b;

    @BeforeEach
    void start() {
        nats = NatsServers.cluster(natsDir);
        String prefix = Edges.freshPrefix();
        a = Edges.start(brokers, nats, prefix, 3);
        b = Edges.start(brokers, nats, prefix, 3);
    }

    @AfterEach
    void stopNats() throws java.io.IOException {
        if (nats != null) {
            brokers.afterEach(null); // the edges first, while NATS still runs (nothing left to close after)
            nats.close();
        }
    }

    @Test
    void killingOneNatsNodeDuringConcurrentInsertsLosesNoAcknowledgedInsert() throws Exception {
        User alice = newUser(a, "acme");
        Edges.awaitKnown(b, alice);
        int writers = 4;
        int perWriter = 60;
        CountDownLatch halfway = new CountDownLatch(writers);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<List<Long>>> acknowledged = new ArrayList<>();
        try {
            for (int w = 0; w < writers; w++) {
                TestBroker edge = w % 2 == 0 ? a : b;
                String name = "w" + w;
                acknowledged.add(pool.submit(() -> {
                    List<Long> ids = new ArrayList<>();
                    for (int i = 0; i < perWriter; i++) {
                        if (i == perWriter / 2) {
                            halfway.countDown();
                        }
                        HttpResult result = edge.insert(alice.jwt(), name, Integer.toString(i));
                        if (result.status() == 200) {
                            ids.add(Long.parseLong(result.json().get("id").asText()));
                        } else {
                            assertEquals(503, result.status(), "a refused insert is a 503: " + result.body());
                            assertNotNull(result.header("Retry-After"));
                        }
                    }
                    return ids;
                }));
            }
            assertTrue(halfway.await(60, TimeUnit.SECONDS));
            nats.kill(0);
            TreeSet<Long> all = new TreeSet<>();
            for (Future<List<Long>> writer : acknowledged) {
                List<Long> ids = writer.get();
                for (int i = 1; i < ids.size(); i++) {
                    assertTrue(ids.get(i) > ids.get(i - 1), "one client's ids increase: " + ids);
                }
                all.addAll(ids);
            }
            assertTrue(all.size() > writers * perWriter / 2, "most inserts succeed: " + all.size());
            // Every acknowledged insert is in the log, read through either edge, in id order.
            for (TestBroker edge : new TestBroker[] {a, b}) {
                List<Long> replayed = replay(edge, alice, all.last());
                for (int i = 1; i < replayed.size(); i++) {
                    assertTrue(replayed.get(i) > replayed.get(i - 1), "replayed ids increase");
                }
                assertTrue(replayed.containsAll(all), "every acknowledged insert survives the node's death");
            }
        } finally {
            pool.shutdownNow();
        }
        nats.start(0);
        insert(a, alice, "after", "1");
    }

    /**
     * Every event of the user's tenant up to {@code lastId}, from a stream resumed after 0, reconnecting as a client
     * does while the stream closes early: right after a node's death, a history read may time out while the client
     * library reconnects or the stream's leader moves, and the server closes that stream (the client resumes).
     */
    private static List<Long> replay(TestBroker edge, User user, long lastId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (SseClient replay = subscribe(edge, user, "", "Last-Event-ID", "0")) {
                return replay.nextUntilId(lastId, PROMPTLY).stream().map(SseClient.Event::idAsLong).toList();
            } catch (AssertionError closedEarly) {
                if (System.nanoTime() > deadline) {
                    throw closedEarly;
                }
            }
        }
    }

    @Test
    void withAllOfNatsGoneEdgesAnswer503KeepStreamsOpenAndCatchUpWithoutAGapOnceItIsBack() {
        User alice = newUser(a, "acme");
        Edges.awaitKnown(b, alice);
        long before = insert(a, alice, "e", "0");
        try (SseClient stream = subscribe(b, alice, "")) {
            assertEquals(before, stream.next(PROMPTLY).idAsLong());

            for (int node = 0; node < nats.size(); node++) {
                nats.kill(node);
            }
            HttpResult refused = Edges.awaitStatus(() -> a.insert(alice.jwt(), "e", "1"), 503, Duration.ofSeconds(30));
            assertNotNull(refused.header("Retry-After"), "a 503 says when to retry");
            HttpResult create = a.post("/create_user", "{\"username\":\"late\",\"password\":\"pw\",\"admin_token\":\""
                    + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"acme\"}");
            assertEquals(503, create.status(), create.body());
            assertNotNull(create.header("Retry-After"));
            HttpResult health = Edges.awaitStatus(() -> b.get("/healthz"), 503, Duration.ofSeconds(30));
            assertTrue(health.error().startsWith("storage: "), health.body());
            assertFalse(stream.isClosed(), "streams stay open while NATS is away");
            try (SseClient late = SseClient.connect(b.port(), "/sse", alice.bearer())) {
                assertEquals(503, late.status(), "a new stream cannot tell whether it is up to date: " + late.body());
                assertNotNull(late.header("Retry-After"));
            }

            nats.startAll();
            Edges.awaitStatus(() -> a.get("/healthz"), 200, Duration.ofSeconds(60));
            Edges.awaitStatus(() -> b.get("/healthz"), 200, Duration.ofSeconds(60));
            List<Long> after = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                after.add(insert(i % 2 == 0 ? a : b, alice, "e", Integer.toString(10 + i)));
            }
            List<Long> seen = stream.nextUntilId(after.get(after.size() - 1), PROMPTLY).stream()
                    .map(SseClient.Event::idAsLong).toList();
            assertTrue(seen.containsAll(after), "the stream carries every insert made after NATS came back: "
                    + seen + " " + after);
            for (int i = 1; i < seen.size(); i++) {
                assertTrue(seen.get(i) > seen.get(i - 1), "in id order, once: " + seen);
            }
            // Whatever was stored while it looked down (an insert whose answer was lost) is there too: no gap.
            try (SseClient replay = subscribe(b, alice, "", "Last-Event-ID", Long.toString(before))) {
                assertEquals(seen, replay.nextUntilId(after.get(after.size() - 1), PROMPTLY).stream()
                        .map(SseClient.Event::idAsLong).toList(), "the live stream has no gap");
            }
        }
    }
}
