package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Read-your-writes for new streams, as a new user meets it: writers insert into one tenant under several event
 * names while subscribers open {@code /sse} at random moments. A stream whose request was sent after insert N was
 * answered must start with the latest event of every name as of some id M ≥ N, then carry every id above M once,
 * in order. (A snapshot served from what the loop had drained, up to one drain interval old, broke the first half.)
 */
@Timeout(120)
class SseReadYourWritesTest {

    private static final int WRITERS = 2;
    private static final int INSERTS_EACH = 150;
    private static final int NAMES = 4;
    private static final int SUBSCRIBERS = 40;

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;
    private User user;
    private ExecutorService threads;

    /** Every acknowledged insert: id to event name, in id order; the monitor for waiting on progress. */
    private final TreeMap<Long, String> acknowledged = new TreeMap<>();
    private int acknowledgedCount;

    @BeforeEach
    void start() {
        broker = brokers.start();
        user = newUser(broker, "ryw");
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @RepeatedTest(2)
    void aNewStreamStartsFromASnapshotThatHoldsEveryAnsweredInsert() throws Exception {
        acknowledge(insert(broker, user, "n0", "\"first\""), "n0");
        List<Future<Opened>> subscribers = new ArrayList<>();
        for (int i = 0; i < SUBSCRIBERS; i++) {
            int threshold = 1 + ThreadLocalRandom.current().nextInt(WRITERS * INSERTS_EACH);
            subscribers.add(threads.submit(() -> {
                long answeredBefore = awaitAcknowledged(threshold);
                return new Opened(subscribe(broker, user, ""), answeredBefore);
            }));
        }
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.add(threads.submit(() -> {
                for (int i = 0; i < INSERTS_EACH; i++) {
                    String name = "n" + ((writer + i) % NAMES);
                    acknowledge(insert(broker, user, name, "{\"w\":" + writer + ",\"i\":" + i + "}"), name);
                }
                return null;
            }));
        }
        for (Future<?> writer : writers) {
            writer.get();
        }
        long sentinel = insert(broker, user, "n0", "\"sentinel\"");
        acknowledge(sentinel, "n0");

        TreeMap<Long, String> all;
        synchronized (acknowledged) {
            all = new TreeMap<>(acknowledged);
        }
        for (Future<Opened> future : subscribers) {
            Opened opened = future.get();
            try (SseClient stream = opened.stream) {
                List<Long> ids = new ArrayList<>();
                for (SseClient.Event event : stream.nextUntilId(sentinel, PROMPTLY)) {
                    assertEquals(all.get(event.idAsLong()), event.name(), "event " + event.id() + "'s name");
                    ids.add(event.idAsLong());
                }
                checkSnapshotThenLive(all, ids, opened.answeredBefore);
            }
        }
    }

    /** Fails unless {@code ids} is latest-per-name as of some M ≥ {@code answeredBefore}, then every id above M. */
    static void checkSnapshotThenLive(TreeMap<Long, String> all, List<Long> ids, long answeredBefore) {
        Long staleMatch = null;
        for (long m : all.keySet()) {
            if (HandOffRule.snapshotThenLive(all, m).equals(ids)) {
                if (m >= answeredBefore) {
                    return;
                }
                staleMatch = m;
            }
        }
        if (staleMatch != null) {
            fail("the stream started from the snapshot as of id " + staleMatch + ", older than insert "
                    + answeredBefore + " answered before its request: " + head(ids));
        }
        fail("the stream is no snapshot followed by live events (request sent after insert " + answeredBefore
                + "): " + head(ids));
    }

    private static String head(List<Long> ids) {
        return ids.subList(0, Math.min(12, ids.size())) + (ids.size() > 12 ? " …" : "");
    }

    private record Opened(SseClient stream, long answeredBefore) {
    }

    private void acknowledge(long id, String name) {
        synchronized (acknowledged) {
            acknowledged.put(id, name);
            acknowledgedCount++;
            acknowledged.notifyAll();
        }
    }

    /** Waits for {@code count} acknowledged inserts; returns the largest id answered so far. */
    private long awaitAcknowledged(int count) throws InterruptedException {
        synchronized (acknowledged) {
            while (acknowledgedCount < count) {
                acknowledged.wait();
            }
            return acknowledged.lastKey();
        }
    }
}
