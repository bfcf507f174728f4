package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.frame;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseStalledSubscriber;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Subscribers that do not keep up, or vanish, cost the server nothing and never hold other subscribers back. */
@Timeout(90)
class SseSlowAndVanishingConsumerTest {

    private static final int BIG_EVENTS = 200;
    private static final String BIG_DATA = "\"" + "x".repeat(64 * 1024) + "\"";
    /** How long the server may take to give up on a stalled stream once its backlog passed the bound. */
    private static final Duration STALL_DEADLINE = Duration.ofSeconds(15);

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;
    private User user;
    private ExecutorService threads;

    @BeforeEach
    void start() {
        broker = brokers.start();
        user = newUser(broker, "slow");
        threads = Executors.newFixedThreadPool(4);
    }

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void disconnectsASubscriberThatNeverReadsOnceItsBacklogPassesTheBound() throws Exception {
        long first = insert(broker, user, "big", "0");
        String firstFrame = frame(first, "big", "0");
        try (SseStalledSubscriber stalled = SseStalledSubscriber.open(broker.port(), "/sse",
                "Authorization: Bearer " + user.jwt())) {
            // Read the snapshot (so the stream is live), then never read again.
            assertEquals(firstFrame, stalled.readThrough("\n\n"));

            // One well-behaved subscriber per event loop (connections are spread round robin), so that their
            // having everything means every loop has handed every event to the stalled stream too.
            int loops = Runtime.getRuntime().availableProcessors();
            List<SseClient> readers = new ArrayList<>();
            try {
                for (int i = 0; i < loops; i++) {
                    SseClient reader = subscribe(broker, user, "");
                    readers.add(reader);
                    assertEquals(Long.toString(first), reader.next(PROMPTLY).id());
                }

                List<Long> ids = insertInParallel(BIG_EVENTS, "big", BIG_DATA);
                long totalBytes = firstFrame.length();
                for (long id : ids) {
                    totalBytes += frame(id, "big", BIG_DATA).length();
                }
                for (SseClient reader : readers) {
                    List<Long> received = reader.nextUntilId(ids.get(ids.size() - 1), PROMPTLY.multipliedBy(3))
                            .stream().map(SseClient.Event::idAsLong).toList();
                    assertEquals(ids, received, "a well-behaved subscriber must get every event");
                    assertFalse(reader.isClosed());
                }

                // The server gives up on the stalled stream: its end of the connection closes, and draining the
                // stream ends well before all the published bytes have come through.
                stalled.awaitServerClosed(STALL_DEADLINE);
                long drained = firstFrame.length() + stalled.drainUntilClosed(PROMPTLY);
                assertTrue(drained < totalBytes, "the stalled subscriber got all " + totalBytes
                        + " bytes: it was never disconnected");
                assertEquals(200, broker.get("/healthz").status());
            } finally {
                readers.forEach(SseClient::close);
            }
        }
    }

    /** The bound is on a backlog, not on one event: a reader that keeps up gets events of any allowed size. */
    @Test
    void aPromptReaderGetsEventsLargerThanTheBacklogBound() {
        long small = insert(broker, user, "e", "0");
        try (SseClient reader = subscribe(broker, user, "")) {
            assertEquals(Long.toString(small), reader.next(PROMPTLY).id());
            String big = "\"" + "z".repeat(900 * 1024) + "\"";
            long id = insert(broker, user, "e", big);
            SseClient.Event event = reader.next(PROMPTLY);
            assertEquals(Long.toString(id), event.id());
            assertEquals(big, event.data());
            long after = insert(broker, user, "e", "1");
            assertEquals(Long.toString(after), reader.next(PROMPTLY).id());
        }
    }

    /**
     * A subscriber that resumes from the start of a long history and never reads must not make the server hold
     * that history for it: it is disconnected once its unsent data passes the bound.
     */
    @Test
    void disconnectsAReplayingSubscriberThatNeverReads() throws Exception {
        List<Long> ids = insertInParallel(BIG_EVENTS, "big", BIG_DATA);
        long totalBytes = 0;
        for (long id : ids) {
            totalBytes += frame(id, "big", BIG_DATA).length();
        }
        try (SseStalledSubscriber stalled = SseStalledSubscriber.open(broker.port(), "/sse",
                "Last-Event-ID: 0", "Authorization: Bearer " + user.jwt())) {
            // Live events keep coming while it stalls; a prompt reader gets them.
            try (SseClient reader = subscribe(broker, user, "")) {
                assertEquals(Long.toString(ids.get(ids.size() - 1)), reader.next(PROMPTLY).id());
                List<Long> more = insertInParallel(50, "big", BIG_DATA);
                for (long id : more) {
                    totalBytes += frame(id, "big", BIG_DATA).length();
                }
                reader.nextUntilId(more.get(more.size() - 1), PROMPTLY);
            }
            stalled.awaitServerClosed(STALL_DEADLINE);
            long drained = stalled.drainUntilClosed(PROMPTLY);
            assertTrue(drained < totalBytes, "the stalled subscriber got all " + totalBytes
                    + " bytes: it was never disconnected");
            assertEquals(200, broker.get("/healthz").status());
        }
    }

    @Test
    void aSubscriberThatVanishesMidStreamDisturbsNoOne() throws Exception {
        String data = "\"" + "y".repeat(8 * 1024) + "\"";
        long first = insert(broker, user, "e", data);
        SseClient vanishing = subscribe(broker, user, "");
        SseClient vanishingDuringReplay = null;
        try (SseClient steady = subscribe(broker, user, "")) {
            assertEquals(Long.toString(first), vanishing.next(PROMPTLY).id());
            assertEquals(Long.toString(first), steady.next(PROMPTLY).id());

            Future<List<Long>> inserts = threads.submit(() -> {
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    ids.add(insert(broker, user, "e", data));
                }
                return ids;
            });
            vanishing.next(10, PROMPTLY);
            vanishing.abort();
            vanishingDuringReplay = SseClient.connect(broker.port(), "/sse", "Last-Event-ID", "0",
                    "Authorization", "Bearer " + user.jwt());
            vanishingDuringReplay.abort();

            List<Long> ids = new ArrayList<>(inserts.get());
            ids.add(0, first);
            List<Long> received = new ArrayList<>();
            received.add(first);
            steady.nextUntilId(ids.get(ids.size() - 1), PROMPTLY).forEach(e -> received.add(e.idAsLong()));
            assertEquals(ids, received);

            assertEquals(200, broker.get("/healthz").status());
            try (SseClient newcomer = subscribe(broker, user, "")) {
                assertEquals(Long.toString(ids.get(ids.size() - 1)), newcomer.next(PROMPTLY).id());
            }
            long last = insert(broker, user, "e", "1");
            assertEquals(Long.toString(last), steady.next(PROMPTLY).id());
        } finally {
            vanishing.close();
            if (vanishingDuringReplay != null) {
                vanishingDuringReplay.close();
            }
        }
    }

    private List<Long> insertInParallel(int count, String event, String data) throws Exception {
        List<Future<Long>> futures = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            futures.add(threads.submit(() -> insert(broker, user, event, data)));
        }
        List<Long> ids = new ArrayList<>();
        for (Future<Long> future : futures) {
            ids.add(future.get());
        }
        ids.sort(null);
        return ids;
    }
}
