package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fan-out of one loop cut into tasks (the fixture cuts them into tasks of 3 streams): with more
 * streams than a task writes and events arriving faster than the loop writes them, every stream still gets every
 * event once, in order, and a stream that joins while bursts are half written gets no duplicate and no gap.
 */
@Timeout(60)
class LoopFanOutTest {

    private static final String TENANT = LoopFixture.TENANT;
    private static final Pattern ID = Pattern.compile("id:(\\d+)\n");

    /** A store with no events: every snapshot read is empty. */
    private static final class EmptyLog implements EventLog {
        @Override
        public CompletableFuture<Event> append(String tenant, String name, byte[] data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<List<Event>> latest(String tenant) {
            return CompletableFuture.completedFuture(List.of());
        }

        @Override
        public CompletableFuture<List<Event>> after(String tenant, long afterId, int limit, long maxDataBytes) {
            return CompletableFuture.completedFuture(List.of());
        }

        @Override
        public CompletableFuture<Long> lastIssuedId() {
            return CompletableFuture.completedFuture(0L);
        }
    }

    private LoopFixture fixture;
    private final List<StringBuilder> received = new ArrayList<>();

    @BeforeEach
    void start() {
        fixture = new LoopFixture(new EmptyLog());
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private int open() throws Exception {
        fixture.open(null);
        received.add(new StringBuilder());
        return received.size() - 1;
    }

    private void post(long id) {
        fixture.post(new Event(id, TENANT, "n" + (id % 3), 0, Long.toString(id).getBytes(StandardCharsets.US_ASCII)));
    }

    /** The ids each stream got so far, in the order written. */
    private List<List<Long>> ids() throws Exception {
        List<List<Long>> all = new ArrayList<>();
        for (int i = 0; i < received.size(); i++) {
            received.get(i).append(fixture.written(fixture.channels.get(i)));
            List<Long> ids = new ArrayList<>();
            Matcher m = ID.matcher(received.get(i));
            while (m.find()) {
                ids.add(Long.parseLong(m.group(1)));
            }
            all.add(ids);
        }
        return all;
    }

    private List<List<Long>> awaitLast(long last) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<List<Long>> ids = ids();
            if (ids.stream().allMatch(l -> !l.isEmpty() && l.get(l.size() - 1) == last)) {
                return ids;
            }
            assertTrue(System.nanoTime() < deadline, "not every stream reached id " + last + ": " + ids);
            Thread.sleep(10);
        }
    }

    @Test
    void everyStreamGetsEveryEventOnceInOrderAcrossTasks() throws Exception {
        assertEquals(3, LoopFixture.SETTINGS.fanOutChunk(), "the fixture cuts fan-outs into tasks of 3 streams");
        for (int i = 0; i < 10; i++) {
            open();
        }
        int events = 300;
        List<Integer> late = new ArrayList<>();
        for (long id = 1; id <= events; id++) {
            post(id);
            if (id % 50 == 0) {
                late.add(open()); // joins while bursts are still being written
            }
        }
        List<List<Long>> ids = awaitLast(events);
        for (int i = 0; i < ids.size(); i++) {
            List<Long> got = ids.get(i);
            if (i < 10) {
                List<Long> all = new ArrayList<>();
                for (long id = 1; id <= events; id++) {
                    all.add(id);
                }
                assertEquals(all, got, "stream " + i);
            } else {
                // A late stream: its snapshot (the latest of each name, ascending), then every later event once.
                for (int k = 1; k < got.size(); k++) {
                    assertTrue(got.get(k) > got.get(k - 1), "stream " + i + " out of order or repeated: " + got);
                }
                long snapshotEnd = got.get(Math.min(2, got.size() - 1));
                for (int k = got.indexOf(snapshotEnd) + 1; k < got.size(); k++) {
                    assertEquals(got.get(k - 1) + 1, got.get(k), "stream " + i + " has a gap after its snapshot: " + got);
                }
            }
        }
        assertEquals(events / 50, late.size());
    }
}
