package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.frame;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The snapshot a new stream gets from its loop's cache (see {@link SnapshotCache}): byte for byte what a read of
 * the store would give, kept current by later inserts, warm after every stream left, and still exact while
 * inserts race a storm of connects. Several subscribers per test, so that every event loop serves some from its
 * cache (connections are spread round robin).
 */
@Timeout(120)
class SseSnapshotCacheTest {

    /** Enough streams that each event loop gets at least two: one fills the cache, the next reads it. */
    private static final int PER_ROUND = 2 * Runtime.getRuntime().availableProcessors() + 1;

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;
    private User user;
    private ExecutorService threads;
    /** Every acknowledged insert of the test's tenant: id to its expected frame. */
    private final Map<Long, String> frames = new TreeMap<>();
    private final Map<Long, String> names = new HashMap<>();

    @BeforeEach
    void start() {
        broker = brokers.start();
        user = newUser(broker, "cache");
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    private long insertAndRemember(String name, String data) {
        long id = insert(broker, user, name, data);
        synchronized (frames) {
            frames.put(id, frame(id, name, data));
            names.put(id, name);
        }
        return id;
    }

    /** The snapshot the contract prescribes right after {@code upTo}: the latest event of every name, by id. */
    private String expectedSnapshot(long upTo) {
        synchronized (frames) {
            Map<String, Long> latest = new LinkedHashMap<>();
            for (long id : frames.keySet()) {
                if (id <= upTo) {
                    latest.put(names.get(id), id);
                }
            }
            StringBuilder expected = new StringBuilder();
            latest.values().stream().sorted().forEach(id -> expected.append(frames.get(id)));
            return expected.toString();
        }
    }

    private static int frameCount(String text) {
        return text.isEmpty() ? 0 : text.split("\n\n", -1).length - 1;
    }

    /** Opens {@link #PER_ROUND} streams one after another; each must start with exactly {@code snapshot}. */
    private List<SseClient> subscribeAll(String snapshot) {
        List<SseClient> streams = new ArrayList<>();
        for (int i = 0; i < PER_ROUND; i++) {
            SseClient stream = subscribe(broker, user, "");
            streams.add(stream);
            stream.next(frameCount(snapshot), PROMPTLY);
            assertEquals(snapshot, stream.rawBodyText(), "stream " + i);
        }
        return streams;
    }

    private static void closeAll(List<SseClient> streams) {
        streams.forEach(SseClient::close);
    }

    @Test
    void everyStreamGetsTheSameSnapshotBytesAndLaterStreamsSeeLaterInserts() {
        insertAndRemember("a", "0");
        insertAndRemember("b", "1");
        insertAndRemember("a", "2");
        long c3 = insertAndRemember("c", "3");
        long b4 = insertAndRemember("b", "4");
        String first = expectedSnapshot(b4);
        List<SseClient> early = subscribeAll(first);
        try {
            // One changed name, one new name: the open streams get them live ...
            long a5 = insertAndRemember("a", "{\"v\":5}");
            long d6 = insertAndRemember("d", "6");
            for (SseClient stream : early) {
                stream.next(2, PROMPTLY);
                assertEquals(first + frames.get(a5) + frames.get(d6), stream.rawBodyText());
            }
            // ... and new ones a snapshot where "a" moved behind "b" and "d" joined: c:3, b:4, a:5, d:6.
            String second = expectedSnapshot(d6);
            assertEquals(frames.get(c3) + frames.get(b4) + frames.get(a5) + frames.get(d6), second);
            closeAll(subscribeAll(second));
        } finally {
            closeAll(early);
        }
    }

    @Test
    void aStreamOpenedAfterEveryStreamLeftGetsTheInsertsMadeWhileNobodyListened() throws Exception {
        insertAndRemember("a", "0");
        long b1 = insertAndRemember("b", "1");
        closeAll(subscribeAll(expectedSnapshot(b1)));
        // Let the server see the streams go, so that the tenant only lingers on each loop.
        Thread.sleep(200);
        insertAndRemember("a", "2");
        long c3 = insertAndRemember("c", "3");
        List<SseClient> later = subscribeAll(expectedSnapshot(c3));
        try {
            long b4 = insertAndRemember("b", "4");
            for (SseClient stream : later) {
                assertEquals(Long.toString(b4), stream.next(PROMPTLY).id());
            }
        } finally {
            closeAll(later);
        }
    }

    /** Past the cache's byte limit streams read the store again, and still get exactly the snapshot. */
    @Test
    void aSnapshotOverTheCacheLimitIsStillServedWhole() {
        insertAndRemember("small", "0");
        List<SseClient> early = subscribeAll(expectedSnapshot(Long.MAX_VALUE));
        try {
            String big = "\"" + "x".repeat(64 * 1024) + "\"";
            int count = SseSettings.defaults().snapshotCacheBytes() / (64 * 1024) + 2;
            for (int i = 0; i < count; i++) {
                insertAndRemember("big" + i, big);
            }
            for (SseClient stream : early) {
                stream.next(count, PROMPTLY);
            }
            closeAll(subscribeAll(expectedSnapshot(Long.MAX_VALUE)));
        } finally {
            closeAll(early);
        }
    }

    /**
     * Storms of streams connect at once (all the streams of a storm released together) while inserts of several
     * names race them. Each stream must be a snapshot as of some id P followed by every event after P, in order:
     * no gap, no duplicate, nothing stale.
     */
    @RepeatedTest(3)
    void stormsOfConnectsRacingInsertsEachGetASnapshotThenAContiguousTail() throws Exception {
        int inserters = 4;
        int insertsEach = 40;
        int storms = 5;
        int perStorm = 12;
        insertAndRemember("n0", "\"before\"");

        List<Future<SseClient>> streams = new ArrayList<>();
        List<CountDownLatch> gates = new ArrayList<>();
        for (int s = 0; s < storms; s++) {
            CountDownLatch gate = new CountDownLatch(1);
            gates.add(gate);
            for (int i = 0; i < perStorm; i++) {
                streams.add(threads.submit(() -> {
                    gate.await();
                    return subscribe(broker, user, "");
                }));
            }
        }
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < inserters; t++) {
            int thread = t;
            writers.add(threads.submit(() -> {
                for (int i = 0; i < insertsEach; i++) {
                    insertAndRemember("n" + (i + thread) % 5, "{\"t\":" + thread + ",\"i\":" + i + "}");
                    if (thread == 0 && i % (insertsEach / storms) == 0) {
                        gates.get(i / (insertsEach / storms)).countDown();
                    }
                }
                return null;
            }));
        }
        for (Future<?> writer : writers) {
            writer.get();
        }
        gates.forEach(CountDownLatch::countDown);
        long sentinel = insertAndRemember("sentinel", "0");

        for (Future<SseClient> future : streams) {
            try (SseClient stream = future.get()) {
                stream.nextUntilId(sentinel, PROMPTLY);
                String body = stream.rawBodyText();
                assertTrue(matchesSnapshotThenTail(body), "not a snapshot then a contiguous tail:\n" + body);
            }
        }
    }

    /** Whether {@code body} is the snapshot as of some id P, then every frame after P up to the last one. */
    private boolean matchesSnapshotThenTail(String body) {
        List<Long> ids;
        synchronized (frames) {
            ids = new ArrayList<>(frames.keySet());
        }
        ids.add(0, 0L);
        for (long p : ids) {
            StringBuilder expected = new StringBuilder(expectedSnapshot(p));
            synchronized (frames) {
                for (Map.Entry<Long, String> entry : frames.entrySet()) {
                    if (entry.getKey() > p) {
                        expected.append(entry.getValue());
                    }
                }
            }
            if (expected.toString().equals(body)) {
                return true;
            }
        }
        return false;
    }
}
