package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.failureOf;
import static dev.broker.storage.rocksdb.StorageTesting.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.storage.HistoryTrimmedException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retention: expired events go, the latest of every name stays, resumes into removed history are refused. */
class RocksRetentionTest {

    private static final Duration RETENTION = Duration.ofDays(30);

    /** A clock the test moves by hand: no test waits for days. */
    static final class MovableClock extends Clock {
        private volatile long millis = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();

        void advance(Duration by) {
            millis += by.toMillis();
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    @TempDir
    Path dir;

    private final MovableClock clock = new MovableClock();
    private RocksStorage storage;

    @AfterEach
    void close() {
        if (storage != null) {
            storage.close();
        }
    }

    private RocksStorage open() {
        storage = RocksStorage.open(dir.resolve("db"), new RocksStorage.Settings(RETENTION, clock));
        return storage;
    }

    private static List<Long> ids(List<Event> events) {
        return events.stream().map(Event::id).collect(Collectors.toList());
    }

    @Test
    void removesExpiredEventsButKeepsTheLatestOfEveryName() throws Exception {
        EventLog log = open().events();
        Event oldA1 = await(log.append("acme", "a", json("1")));
        Event oldB = await(log.append("acme", "b", json("2")));
        Event oldA2 = await(log.append("acme", "a", json("3")));
        Event otherTenant = await(log.append("globex", "a", json("4")));
        Event oldC1 = await(log.append("acme", "c", json("5")));
        clock.advance(Duration.ofDays(20));
        Event youngC = await(log.append("acme", "c", json("6")));
        Event youngA = await(log.append("acme", "a", json("7")));
        clock.advance(Duration.ofDays(11)); // the first five are now 31 days old, the last two 11

        assertEquals(0L, await(log.retainedFrom("acme")));
        assertEquals(2, await(storage.trimHistory()));

        // Gone: a1 and a2 (a has a newer event), c1 (likewise). Kept: b, the latest of its name, and the young ones.
        long retainedFrom = await(log.retainedFrom("acme"));
        assertEquals(oldC1.id() + 1, retainedFrom, "one above the largest id removed");
        assertEquals(List.of(youngC.id(), youngA.id()), ids(await(log.after("acme", retainedFrom - 1, 100))));
        // The snapshot lost nothing.
        assertEquals(List.of(oldB.id(), youngC.id(), youngA.id()), ids(await(log.latest("acme"))));
        // A replay from below the retained history is refused, not answered with a gap.
        assertInstanceOf(HistoryTrimmedException.class, failureOf(log.after("acme", oldA1.id(), 100)));
        assertInstanceOf(HistoryTrimmedException.class, failureOf(log.after("acme", 0, 100)));
        // The other tenant's only event is its latest: kept, and nothing of it was removed.
        assertEquals(List.of(otherTenant.id()), ids(await(log.after("globex", 0, 100))));
        assertEquals(0L, await(log.retainedFrom("globex")));
        assertTrue(oldA2.id() < retainedFrom);
    }

    @Test
    void aLaterPassRemovesAKeptEventOnceItsNameHasANewerOneAndSurvivesARestart() throws Exception {
        EventLog log = open().events();
        Event oldB = await(log.append("acme", "b", json("1")));
        Event oldA = await(log.append("acme", "a", json("2")));
        clock.advance(Duration.ofDays(31));
        assertEquals(1, await(storage.trimHistory()));
        assertEquals(List.of(oldB.id(), oldA.id()), ids(await(log.after("acme", 0, 100))), "both are latest");

        Event newB = await(log.append("acme", "b", json("3")));
        clock.advance(Duration.ofDays(31));
        assertEquals(1, await(storage.trimHistory()));

        assertEquals(oldB.id() + 1, await(log.retainedFrom("acme")));
        storage.close();
        log = open().events();
        assertEquals(oldB.id() + 1, await(log.retainedFrom("acme")), "the record is durable");
        assertEquals(List.of(oldA.id(), newB.id()), ids(await(log.after("acme", oldB.id(), 100))));
        assertEquals(List.of(oldA.id(), newB.id()), ids(await(log.latest("acme"))));
        assertEquals(0, await(storage.trimHistory()), "nothing more has expired");
    }

    @Test
    void doesNothingWhileRetentionIsOff() throws Exception {
        storage = RocksStorage.open(dir.resolve("db"), new RocksStorage.Settings(Duration.ZERO, clock));
        EventLog log = storage.events();
        await(log.append("acme", "a", json("1")));
        await(log.append("acme", "a", json("2")));
        clock.advance(Duration.ofDays(3650));
        assertEquals(0, await(storage.trimHistory()));
        assertEquals(2, await(log.after("acme", 0, 100)).size());
    }

    @Test
    void reclaimsDiskSpaceAndKeepsTheSnapshot() throws Exception {
        EventLog log = open().events();
        // Random hex, so that compression cannot make the table files small: about 1 KB each on disk.
        java.util.Random random = new java.util.Random(42);
        int names = 20;
        List<CompletableFuture<Event>> appends = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[1000];
            random.nextBytes(bytes);
            byte[] data = json("\"" + java.util.HexFormat.of().formatHex(bytes) + "\"");
            appends.add(log.append("acme", "name-" + (i % names), data));
            if (appends.size() == 1000) {
                for (CompletableFuture<Event> append : appends) {
                    await(append);
                }
                appends.clear();
            }
        }
        List<Event> snapshotBefore = await(log.latest("acme"));
        storage.compactEvents();
        long before = storage.tableFileBytes();
        assertTrue(before > 10_000_000, "about 20 MB of events on disk: " + before);

        clock.advance(Duration.ofDays(31));
        Event young = await(log.append("acme", "name-0", json("0")));
        assertEquals(1, await(storage.trimHistory()));
        storage.compactEvents();
        long after = storage.tableFileBytes();

        assertTrue(after < before / 10, "table files shrank from " + before + " to " + after + " bytes");
        List<Event> snapshotAfter = await(log.latest("acme"));
        assertEquals(names, snapshotAfter.size());
        assertEquals(young.id(), snapshotAfter.get(names - 1).id());
        for (int i = 0; i < names - 1; i++) {
            assertEquals(snapshotBefore.get(i + 1).id(), snapshotAfter.get(i).id());
            assertArrayEquals(snapshotBefore.get(i + 1).data(), snapshotAfter.get(i).data());
        }
        // What is left of the log: the 19 kept latest events and the young one.
        assertEquals(names, await(log.after("acme", await(log.retainedFrom("acme")) - 1, 1000)).size());
    }

    @Test
    void appendsRunOnWhileAPassRemovesHistory() throws Exception {
        EventLog log = open().events();
        for (int i = 0; i < 5000; i++) {
            log.append("acme", "n" + (i % 50), json(Integer.toString(i)));
        }
        await(log.append("acme", "n0", json("last-old")));
        clock.advance(Duration.ofDays(31));
        CompletableFuture<Integer> pass = storage.trimHistory();
        List<CompletableFuture<Event>> young = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            young.add(log.append("acme", "young" + (i % 10), json(Integer.toString(i))));
        }
        assertEquals(1, await(pass));
        List<Long> youngIds = new ArrayList<>();
        for (CompletableFuture<Event> append : young) {
            youngIds.add(await(append).id());
        }
        List<Event> left = await(log.after("acme", await(log.retainedFrom("acme")) - 1, 10_000));
        assertTrue(ids(left).containsAll(youngIds), "no young event was removed");
        assertEquals(60, await(log.latest("acme")).size());
    }

    @Test
    void runsByItselfWithoutARestart() throws Exception {
        // A retention of 10 s runs a pass every second; the clock says how old the events are.
        storage = RocksStorage.open(dir.resolve("db"), new RocksStorage.Settings(Duration.ofSeconds(10), clock));
        EventLog log = storage.events();
        Event first = await(log.append("acme", "a", json("1")));
        await(log.append("acme", "a", json("2")));
        clock.advance(Duration.ofSeconds(11));

        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (await(log.retainedFrom("acme")) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10); // a poll with a deadline: the pass runs on the store's timer
        }
        assertEquals(first.id() + 1, await(log.retainedFrom("acme")), "the timer's pass removed the first event");
    }

    @Test
    void runsEveryTenthOfTheRetentionWithinBounds() {
        assertEquals(Duration.ofHours(1), RocksStorage.retentionInterval(Duration.ofDays(30)));
        assertEquals(Duration.ofMinutes(9), RocksStorage.retentionInterval(Duration.ofMinutes(90)));
        assertEquals(Duration.ofSeconds(1), RocksStorage.retentionInterval(Duration.ofSeconds(3)));
    }
}
