package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.frame;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Where a stream starts: the snapshot of latest events, or the events after a Last-Event-ID; then live. */
@Timeout(60)
class SseSnapshotAndResumeTest {

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;
    private User user;

    @BeforeEach
    void start() {
        broker = brokers.start();
        user = newUser(broker, "resume");
    }

    /** Inserts {@code a:0, b:1, a:2, c:3, b:4} and returns their ids. */
    private long[] insertHistory() {
        String[] names = {"a", "b", "a", "c", "b"};
        long[] ids = new long[names.length];
        for (int i = 0; i < names.length; i++) {
            ids[i] = insert(broker, user, names[i], Integer.toString(i));
        }
        return ids;
    }

    private static String frames(long[] ids, int... indexes) {
        String[] names = {"a", "b", "a", "c", "b"};
        StringBuilder expected = new StringBuilder();
        for (int i : indexes) {
            expected.append(frame(ids[i], names[i], Integer.toString(i)));
        }
        return expected.toString();
    }

    @Test
    void startsWithTheLatestEventOfEveryNameInIdOrderThenGoesLive() {
        long[] ids = insertHistory();
        try (SseClient stream = subscribe(broker, user, "")) {
            stream.next(3, PROMPTLY);
            long live = insert(broker, user, "a", "\"live\"");
            stream.next(PROMPTLY);
            // a:2, c:3, b:4 in id order; nothing older; then the live one.
            assertEquals(frames(ids, 2, 3, 4) + frame(live, "a", "\"live\""), stream.rawBodyText());
        }
    }

    @Test
    void emptyTenantStreamsOnlyLiveEvents() {
        try (SseClient stream = subscribe(broker, user, "")) {
            long live = insert(broker, user, "first", "{}");
            assertEquals(new SseClient.Event(Long.toString(live), "first", "{}"), stream.next(PROMPTLY));
            assertEquals(frame(live, "first", "{}"), stream.rawBodyText());
        }
    }

    @Test
    void lastEventIdHeaderReplaysEveryLaterEventInOrderThenGoesLive() {
        long[] ids = insertHistory();
        try (SseClient stream = subscribe(broker, user, "", "Last-Event-ID", Long.toString(ids[1]))) {
            stream.next(3, PROMPTLY);
            long live = insert(broker, user, "d", "5");
            stream.next(PROMPTLY);
            assertEquals(frames(ids, 2, 3, 4) + frame(live, "d", "5"), stream.rawBodyText());
        }
    }

    @Test
    void lastEventIdZeroReplaysTheWholeLog() {
        long[] ids = insertHistory();
        try (SseClient stream = subscribe(broker, user, "", "Last-Event-ID", "0")) {
            stream.next(5, PROMPTLY);
            assertEquals(frames(ids, 0, 1, 2, 3, 4), stream.rawBodyText());
        }
    }

    @Test
    void lastEventIdOfTheNewestEventStartsWithLiveEventsOnly() {
        long[] ids = insertHistory();
        try (SseClient stream = subscribe(broker, user, "", "Last-Event-ID", Long.toString(ids[4]))) {
            long live = insert(broker, user, "z", "true");
            assertEquals(Long.toString(live), stream.next(PROMPTLY).id());
            assertEquals(frame(live, "z", "true"), stream.rawBodyText());
        }
    }

    /** An id the server never issued (a client that outlived a restore from backup) cannot be resumed from. */
    @Test
    void lastEventIdAboveEveryIssuedIdFallsBackToTheSnapshot() {
        long[] ids = insertHistory();
        String beyond = Long.toString(ids[4] + 1_000);
        try (SseClient stream = subscribe(broker, user, "", "Last-Event-ID", beyond)) {
            stream.next(3, PROMPTLY);
            long live = insert(broker, user, "a", "\"live\"");
            stream.next(PROMPTLY);
            assertEquals(frames(ids, 2, 3, 4) + frame(live, "a", "\"live\""), stream.rawBodyText());
        }
        try (SseClient stream = subscribe(broker, user, "?last_event_id=" + Long.MAX_VALUE)) {
            // The snapshot: c, b and the live a.
            assertEquals(List.of("c", "b", "a"), stream.next(3, PROMPTLY).stream().map(SseClient.Event::name).toList());
        }
    }

    @Test
    void lastEventIdQueryParameterReplaysLikeTheHeader() {
        long[] ids = insertHistory();
        try (SseClient stream = subscribe(broker, user, "?last_event_id=" + ids[2])) {
            stream.next(2, PROMPTLY);
            long live = insert(broker, user, "d", "5");
            stream.next(PROMPTLY);
            assertEquals(frames(ids, 3, 4) + frame(live, "d", "5"), stream.rawBodyText());
        }
    }

    @Test
    void headerWinsOverQueryParameter() {
        long[] ids = insertHistory();
        try (SseClient stream = subscribe(broker, user, "?last_event_id=" + ids[0],
                "Last-Event-ID", Long.toString(ids[3]))) {
            stream.next(PROMPTLY);
            long live = insert(broker, user, "d", "5");
            stream.next(PROMPTLY);
            assertEquals(frames(ids, 4) + frame(live, "d", "5"), stream.rawBodyText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", "1.5", "+3", "0x10", ""})
    void invalidLastEventIdHeaderIsIgnored(String value) {
        long[] ids = insertHistory();
        try (SseClient stream = subscribe(broker, user, "", "Last-Event-ID", value)) {
            stream.next(3, PROMPTLY);
            long live = insert(broker, user, "d", "5");
            stream.next(PROMPTLY);
            assertEquals(frames(ids, 2, 3, 4) + frame(live, "d", "5"), stream.rawBodyText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", ""})
    void invalidLastEventIdQueryParameterIsIgnored(String value) {
        long[] ids = insertHistory();
        String query = "?last_event_id=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
        try (SseClient stream = subscribe(broker, user, query)) {
            stream.next(3, PROMPTLY);
            long live = insert(broker, user, "d", "5");
            stream.next(PROMPTLY);
            assertEquals(frames(ids, 2, 3, 4) + frame(live, "d", "5"), stream.rawBodyText());
        }
    }

    /** A replay longer than one page of the log read (and than the socket buffers) arrives whole and in order. */
    @Test
    void replaysAHistoryOfManyPagesInOrder() throws Exception {
        int count = 1_200;
        String padding = "x".repeat(200);
        List<Long> ids = new ArrayList<>();
        ExecutorService inserters = Executors.newFixedThreadPool(4);
        try {
            List<Future<Long>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String data = "{\"i\":" + i + ",\"p\":\"" + padding + "\"}";
                futures.add(inserters.submit(() -> insert(broker, user, "bulk", data)));
            }
            for (Future<Long> future : futures) {
                ids.add(future.get());
            }
        } finally {
            inserters.shutdownNow();
        }
        ids.sort(null);
        long first = ids.get(0);
        try (SseClient stream = subscribe(broker, user, "", "Last-Event-ID", Long.toString(first - 1))) {
            List<SseClient.Event> events = stream.next(count, PROMPTLY.multipliedBy(3));
            List<Long> received = events.stream().map(SseClient.Event::idAsLong).toList();
            assertEquals(ids, received);
            long live = insert(broker, user, "bulk", "0");
            assertEquals(Long.toString(live), stream.next(PROMPTLY).id());
        }
    }
}
