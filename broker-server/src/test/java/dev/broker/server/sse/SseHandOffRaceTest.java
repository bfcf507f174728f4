package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hand-off from history to live events while inserts race the connects: "no gap and no duplicate".
 * Subscribers connect at random points of the insert run (each waits for a random number of acknowledged inserts),
 * then each one's id sequence is compared with the tenant's full list of inserted ids.
 */
@Timeout(90)
class SseHandOffRaceTest {

    private static final int INSERTERS = 4;
    private static final int INSERTS_EACH = 50;
    private static final int SUBSCRIBERS = 40;
    /** The race is won rarely by the wrong side: each test runs a few rounds, each on a fresh server. */
    private static final int ROUNDS = 4;

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;
    private User user;
    private ExecutorService threads;

    /** Acknowledged ids in order of acknowledgement; the monitor for waiting on progress. */
    private final List<Long> acknowledged = new ArrayList<>();

    @BeforeEach
    void start() {
        broker = brokers.start();
        user = newUser(broker, "race");
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    /**
     * With one event name, a snapshot is the latest event, so a subscriber's ids must be exactly the tail of the
     * tenant's ids that starts at its first one.
     */
    @RepeatedTest(ROUNDS)
    void snapshotThenLiveHasNoGapOrDuplicateWhileInsertsRace() throws Exception {
        acknowledge(insert(broker, user, "x", "\"before\""));
        List<Future<Started>> subscribers = startSubscribers(ignoredPrefix -> null);
        List<Long> all = runInsertersAndSentinel();

        for (Future<Started> future : subscribers) {
            Started started = future.get();
            try (SseClient stream = started.stream) {
                List<Long> ids = idsUntil(stream, all.get(all.size() - 1));
                int from = all.indexOf(ids.get(0));
                assertTrue(from >= 0, "first id " + ids.get(0) + " is not an inserted id");
                assertEquals(all.subList(from, all.size()), ids,
                        "subscriber connected after " + started.threshold + " acknowledged inserts");
            }
        }
    }

    /** A resume racing the inserts gets exactly the ids above its Last-Event-ID. */
    @RepeatedTest(ROUNDS)
    void resumeThenLiveHasNoGapOrDuplicateWhileInsertsRace() throws Exception {
        acknowledge(insert(broker, user, "x", "\"before\""));
        List<Future<Started>> subscribers = startSubscribers(lastAcknowledgedSoFar -> {
            // Resume from a random id already acknowledged (the newest one included).
            synchronized (acknowledged) {
                return acknowledged.get(ThreadLocalRandom.current().nextInt(acknowledged.size()));
            }
        });
        List<Long> all = runInsertersAndSentinel();

        for (Future<Started> future : subscribers) {
            Started started = future.get();
            try (SseClient stream = started.stream) {
                List<Long> ids = idsUntil(stream, all.get(all.size() - 1));
                List<Long> expected = all.stream().filter(id -> id > started.lastEventId).toList();
                assertEquals(expected, ids, "resumed after " + started.lastEventId + " once "
                        + started.threshold + " inserts were acknowledged");
            }
        }
    }

    private record Started(SseClient stream, int threshold, Long lastEventId) {
    }

    /** Starts the subscribers, each waiting for a random count of acknowledged inserts before it connects. */
    private List<Future<Started>> startSubscribers(LongFunction<Long> resumeFrom) {
        List<Future<Started>> futures = new ArrayList<>();
        for (int i = 0; i < SUBSCRIBERS; i++) {
            int threshold = 1 + ThreadLocalRandom.current().nextInt(INSERTERS * INSERTS_EACH);
            futures.add(threads.submit(() -> {
                awaitAcknowledged(threshold);
                Long lastEventId = resumeFrom.apply(threshold);
                SseClient stream = lastEventId == null
                        ? subscribe(broker, user, "")
                        : subscribe(broker, user, "", "Last-Event-ID", Long.toString(lastEventId));
                return new Started(stream, threshold, lastEventId);
            }));
        }
        return futures;
    }

    /** Runs the inserters to the end, then one last insert every subscriber waits for; returns all ids sorted. */
    private List<Long> runInsertersAndSentinel() throws Exception {
        List<Future<?>> inserters = new ArrayList<>();
        for (int t = 0; t < INSERTERS; t++) {
            int thread = t;
            inserters.add(threads.submit(() -> {
                for (int i = 0; i < INSERTS_EACH; i++) {
                    acknowledge(insert(broker, user, "x", "{\"t\":" + thread + ",\"i\":" + i + "}"));
                }
                return null;
            }));
        }
        for (Future<?> inserter : inserters) {
            inserter.get();
        }
        acknowledge(insert(broker, user, "x", "\"sentinel\""));
        synchronized (acknowledged) {
            List<Long> all = new ArrayList<>(acknowledged);
            all.sort(null);
            assertEquals(INSERTERS * INSERTS_EACH + 2, all.stream().distinct().count(), "ids must be unique");
            return all;
        }
    }

    private void acknowledge(long id) {
        synchronized (acknowledged) {
            acknowledged.add(id);
            acknowledged.notifyAll();
        }
    }

    private void awaitAcknowledged(int count) throws InterruptedException {
        synchronized (acknowledged) {
            while (acknowledged.size() < count) {
                acknowledged.wait();
            }
        }
    }

    private static List<Long> idsUntil(SseClient stream, long lastId) {
        List<SseClient.Event> events = stream.nextUntilId(lastId, PROMPTLY);
        List<Long> ids = new ArrayList<>(events.size());
        for (SseClient.Event event : events) {
            assertEquals("x", event.name());
            ids.add(event.idAsLong());
        }
        return ids;
    }
}
