package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.awaitLatch;
import static dev.broker.storage.rocksdb.StorageTesting.failureOf;
import static dev.broker.storage.rocksdb.StorageTesting.json;
import static dev.broker.storage.rocksdb.StorageTesting.openWithCommits;
import static dev.broker.storage.rocksdb.StorageTesting.rocksLog;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class RocksEventLogTest {

    @TempDir
    Path dir;

    private final List<RocksStorage> opened = new ArrayList<>();

    @AfterEach
    void closeStorage() {
        opened.forEach(RocksStorage::close);
    }

    private RocksStorage open() {
        return open(UnaryOperator.identity());
    }

    private RocksStorage open(UnaryOperator<BatchCommitter> commitWrapper) {
        RocksStorage storage = openWithCommits(dir, commitWrapper);
        opened.add(storage);
        return storage;
    }

    private static List<Long> ids(List<Event> events) {
        return events.stream().map(Event::id).collect(Collectors.toList());
    }

    @Test
    void appendAssignsIncreasingIdsPerTenant() throws Exception {
        EventLog log = open().events();
        long before = System.currentTimeMillis();

        Event first = await(log.append("acme", "order", json("{\"n\":1}")));
        Event other = await(log.append("globex", "order", json("{\"n\":2}")));
        Event second = await(log.append("acme", "order", json("{\"n\":3}")));
        Event third = await(log.append("acme", "invoice", json("{\"n\":4}")));

        assertTrue(first.id() > 0);
        assertTrue(first.id() < second.id() && second.id() < third.id());
        assertEquals(4, Set.of(first.id(), other.id(), second.id(), third.id()).size());
        assertEquals("acme", first.tenant());
        assertEquals("order", first.name());
        assertArrayEquals(json("{\"n\":1}"), first.data());
        assertTrue(first.timestamp() >= before && first.timestamp() <= System.currentTimeMillis());
    }

    @Test
    void latestReturnsOneEventPerNameInIdOrder() throws Exception {
        EventLog log = open().events();
        // Byte order of the names (a < b < c) differs from their id order (b, c, a).
        await(log.append("acme", "b", json("1")));
        await(log.append("acme", "c", json("2")));
        Event latestB = await(log.append("acme", "b", json("3")));
        Event latestA = await(log.append("acme", "a", json("4")));
        Event latestC = await(log.append("acme", "c", json("5")));

        List<Event> latest = await(log.latest("acme"));

        assertEquals(List.of(latestB.id(), latestA.id(), latestC.id()), ids(latest));
        assertEquals(List.of("b", "a", "c"), latest.stream().map(Event::name).collect(Collectors.toList()));
        assertArrayEquals(json("3"), latest.get(0).data());
        assertEquals(latestB.timestamp(), latest.get(0).timestamp());
        assertEquals("acme", latest.get(0).tenant());
    }

    @Test
    void latestKeepsTheLastOfSeveralAppendsOfOneNameInOneBatch() throws Exception {
        StorageTesting.ControlledCommits commits = new StorageTesting.ControlledCommits(0);
        RocksEventLog log = rocksLog(open(commits::wrap));
        CompletableFuture<Event> held = log.append("acme", "warmup", json("0"));
        awaitLatch(commits.firstCommitStarted);
        List<CompletableFuture<Event>> sameBatch = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            sameBatch.add(log.append("acme", "price", json(Integer.toString(i))));
        }
        commits.releaseFirstCommit.countDown();
        await(held);
        Event last = await(sameBatch.get(4));

        List<Event> latest = await(log.latest("acme"));

        assertEquals(2, log.commitStats().commits(), "the five appends should have shared one commit");
        assertEquals(last.id(), latest.get(1).id());
        assertArrayEquals(json("5"), latest.get(1).data());
    }

    @Test
    void afterReturnsEventsPastTheGivenIdInOrder() throws Exception {
        EventLog log = open().events();
        List<Event> appended = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            appended.add(await(log.append("acme", "tick", json("{\"i\":" + i + "}"))));
        }

        assertEquals(ids(appended), ids(await(log.after("acme", 0, 100))));
        assertEquals(ids(appended), ids(await(log.after("acme", -1, 100))));
        assertEquals(ids(appended.subList(2, 4)), ids(await(log.after("acme", appended.get(1).id(), 2))));
        assertEquals(List.of(), await(log.after("acme", appended.get(4).id(), 100)));
        assertEquals(List.of(), await(log.after("acme", 0, 0)));
        assertEquals(List.of(), await(log.after("acme", Long.MAX_VALUE, 10)));

        Event third = await(log.after("acme", appended.get(1).id(), 1)).get(0);
        assertEquals("tick", third.name());
        assertEquals("acme", third.tenant());
        assertEquals(appended.get(2).timestamp(), third.timestamp());
        assertArrayEquals(json("{\"i\":2}"), third.data());
    }

    @Test
    void boundedLatestKeepsTheSnapshotOnlyWithinItsBoundsAndCountsItEitherWay() throws Exception {
        EventLog log = open().events();
        await(log.append("acme", "a", json("\"12345678\""))); // 1 + 10 bytes of name and data
        await(log.append("acme", "bb", json("\"12345678\""))); // 2 + 10
        Event newest = await(log.append("acme", "a", json("1"))); // replaces the first: 1 + 1
        await(log.append("other", "x", json("\"not acme's\"")));

        EventLog.Latest within = await(log.latest("acme", 2, 14));
        assertTrue(within.complete());
        assertEquals(ids(await(log.latest("acme"))), ids(within.events()));
        assertEquals(newest.id(), within.events().get(1).id());
        assertEquals(2, within.names());
        assertEquals(14, within.bytes());

        for (EventLog.Latest over : List.of(await(log.latest("acme", 1, 1000)), await(log.latest("acme", 2, 13)))) {
            assertFalse(over.complete());
            assertEquals(2, over.names(), "counted to the end");
            assertEquals(14, over.bytes());
        }
        assertEquals(new EventLog.Latest(List.of(), 0, 0), await(log.latest("nobody", 0, 0)));
    }

    @Test
    void afterStopsOnceThePageReachesItsDataBound() throws Exception {
        EventLog log = open().events();
        List<Event> appended = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            // 10 bytes of data each
            appended.add(await(log.append("acme", "tick", json("\"" + "x".repeat(8) + "\""))));
        }

        // The event that reaches the bound is the last of the page.
        assertEquals(ids(appended.subList(0, 3)), ids(await(log.after("acme", 0, 100, 30))));
        assertEquals(ids(appended.subList(0, 3)), ids(await(log.after("acme", 0, 100, 21))));
        assertEquals(ids(appended.subList(0, 2)), ids(await(log.after("acme", 0, 100, 20))));
        // At least one event, however small the bound; the count limit still applies.
        assertEquals(ids(appended.subList(0, 1)), ids(await(log.after("acme", 0, 100, 1))));
        assertEquals(ids(appended.subList(3, 4)), ids(await(log.after("acme", appended.get(2).id(), 100, 0))));
        assertEquals(ids(appended.subList(0, 2)), ids(await(log.after("acme", 0, 2, 1000))));
        assertEquals(ids(appended), ids(await(log.after("acme", 0, 100, 1000))));
    }

    @Test
    void latestAndAfterKeepTenantsApart() throws Exception {
        EventLog log = open().events();
        // Without the length prefix, tenant "a" with name "bx" would share key bytes with tenant "ab".
        Event ofA = await(log.append("a", "bx", json("1")));
        Event ofAb = await(log.append("ab", "x", json("2")));
        Event ofAbToo = await(log.append("ab", "y", json("3")));

        assertEquals(List.of(ofA.id()), ids(await(log.latest("a"))));
        assertEquals(List.of(ofAb.id(), ofAbToo.id()), ids(await(log.latest("ab"))));
        assertEquals(List.of(ofA.id()), ids(await(log.after("a", 0, 10))));
        assertEquals(List.of(ofAb.id(), ofAbToo.id()), ids(await(log.after("ab", 0, 10))));
        assertEquals(List.of(), await(log.latest("nobody")));
        assertEquals(List.of(), await(log.after("nobody", 0, 10)));
        assertEquals(List.of(), await(log.latest("")));
    }

    @Test
    void appendRejectsTenantLongerThan65535Utf8Bytes() throws Exception {
        EventLog log = open().events();
        String longest = "t".repeat(65_535);
        String tooLong = "é".repeat(32_768); // 65,536 UTF-8 bytes in 32,768 chars

        StorageException failure = failureOf(log.append(tooLong, "n", json("1")));
        Event stored = await(log.append(longest, "n", json("2")));

        assertTrue(failure.getMessage().startsWith("append: "), failure.getMessage());
        assertEquals(List.of(stored.id()), ids(await(log.latest(longest))));
        assertTrue(failureOf(log.latest(tooLong)).getMessage().startsWith("latest: "));
    }

    @Test
    void concurrentAppendsAreGroupCommitted() throws Exception {
        RocksStorage storage = open();
        RocksEventLog log = rocksLog(storage);
        List<Long> fedIds = Collections.synchronizedList(new ArrayList<>());
        storage.feed().subscribe(event -> fedIds.add(event.id()));
        int threads = 16;
        int appendsPerThread = 500;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService appenders = Executors.newFixedThreadPool(threads);
        List<CompletableFuture<Event>> appends = Collections.synchronizedList(new ArrayList<>());
        try {
            List<Future<?>> submitted = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String tenant = "tenant-" + (t % 4);
                submitted.add(appenders.submit(() -> {
                    awaitLatch(start);
                    for (int i = 0; i < appendsPerThread; i++) {
                        appends.add(log.append(tenant, "n" + (i % 10), json("{\"i\":" + i + "}")));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> done : submitted) {
                done.get(StorageTesting.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            appenders.shutdownNow();
        }
        Set<Long> appendedIds = new HashSet<>();
        for (CompletableFuture<Event> append : appends) {
            appendedIds.add(await(append).id());
        }

        int total = threads * appendsPerThread;
        assertEquals(total, appendedIds.size(), "ids must be unique");
        List<Long> fed = new ArrayList<>(fedIds);
        assertEquals(total, fed.size());
        for (int i = 1; i < fed.size(); i++) {
            assertTrue(fed.get(i - 1) < fed.get(i), "feed order must be strictly increasing at " + i);
        }
        assertEquals(appendedIds, new HashSet<>(fed));
        CommitStats stats = log.commitStats();
        assertEquals(total, stats.appends());
        assertTrue(stats.commits() < total / 4, "too many commits for " + total + " appends: " + stats);
    }

    @Test
    void appendsQueuedDuringASyncShareTheNextCommit() throws Exception {
        StorageTesting.ControlledCommits commits = new StorageTesting.ControlledCommits(0);
        RocksEventLog log = rocksLog(open(commits::wrap));
        CompletableFuture<Event> first = log.append("acme", "n", json("0"));
        awaitLatch(commits.firstCommitStarted);
        List<CompletableFuture<Event>> queued = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            queued.add(log.append("acme", "n", json(Integer.toString(i))));
        }

        commits.releaseFirstCommit.countDown();
        long previousId = await(first).id();
        for (CompletableFuture<Event> append : queued) {
            long id = await(append).id();
            assertEquals(previousId + 1, id, "a batch takes consecutive ids");
            previousId = id;
        }

        CommitStats stats = log.commitStats();
        assertEquals(new CommitStats(2, 101, 0, 100), stats);
    }

    @Test
    void appendsBeyondTheQueueBoundAreRefusedAsOverloadAndTheRestCommit() throws Exception {
        StorageTesting.ControlledCommits commits = new StorageTesting.ControlledCommits(0);
        EventLog log = open(commits::wrap).events();
        CompletableFuture<Event> first = log.append("acme", "n", json("0"));
        awaitLatch(commits.firstCommitStarted);
        List<CompletableFuture<Event>> queued = new ArrayList<>();
        for (int i = 0; i < GroupCommitWriter.MAX_QUEUED_APPENDS; i++) {
            queued.add(log.append("acme", "n", json("1")));
        }
        CompletableFuture<Event> refused = log.append("acme", "n", json("2"));
        assertTrue(failureOf(refused) instanceof StorageOverloadedException, "the append past the bound is refused");

        commits.releaseFirstCommit.countDown();
        await(first);
        long lastId = 0;
        for (CompletableFuture<Event> append : queued) {
            lastId = await(append).id();
        }
        assertEquals(1 + GroupCommitWriter.MAX_QUEUED_APPENDS, lastId, "every admitted append was stored");
    }

    @Test
    void failedCommitFailsEveryAppendOfTheBatchAndPublishesNothing() throws Exception {
        StorageTesting.ControlledCommits commits = new StorageTesting.ControlledCommits(2);
        RocksStorage storage = open(commits::wrap);
        RocksEventLog log = rocksLog(storage);
        List<Long> fedIds = Collections.synchronizedList(new ArrayList<>());
        storage.feed().subscribe(event -> fedIds.add(event.id()));

        CompletableFuture<Event> held = log.append("acme", "n", json("kept"));
        awaitLatch(commits.firstCommitStarted);
        List<CompletableFuture<Event>> doomed = List.of(
                log.append("acme", "n", json("lost-1")),
                log.append("acme", "other", json("lost-2")),
                log.append("globex", "n", json("lost-3")));
        commits.releaseFirstCommit.countDown();

        Event kept = await(held);
        for (CompletableFuture<Event> append : doomed) {
            StorageException failure = failureOf(append);
            assertTrue(failure.getMessage().startsWith("append events: "), failure.getMessage());
            assertTrue(failure.getMessage().contains("injected failure"), failure.getMessage());
        }
        Event afterFailure = await(log.append("acme", "later", json("ok")));

        assertTrue(afterFailure.id() > kept.id() + doomed.size(), "ids of the failed batch must not be reused");
        assertEquals(List.of(kept.id(), afterFailure.id()), fedIds);
        assertEquals(List.of(kept.id(), afterFailure.id()), ids(await(log.after("acme", 0, 10))));
        assertEquals(List.of(kept.id(), afterFailure.id()), ids(await(log.latest("acme"))));
        assertEquals(List.of(), await(log.latest("globex")));
        assertEquals(new CommitStats(2, 2, 3, 1), log.commitStats());
    }

    @Test
    void feedSeesEveryEventOnceInIdOrder() throws Exception {
        RocksStorage storage = open();
        EventLog log = storage.events();
        Event beforeSubscribing = await(log.append("acme", "n", json("0")));
        // Read while the writer thread adds to it, hence copy-on-write.
        List<Event> fed = new CopyOnWriteArrayList<>();
        storage.feed().subscribe(fed::add);

        List<CompletableFuture<Event>> appends = new ArrayList<>();
        for (int i = 1; i <= 200; i++) {
            appends.add(log.append(i % 2 == 0 ? "acme" : "globex", "n" + (i % 3), json(Integer.toString(i))));
        }
        List<Long> appendedIds = new ArrayList<>();
        for (CompletableFuture<Event> append : appends) {
            Event event = await(append);
            // An append completes only after the feed has been handed the event.
            assertTrue(fed.stream().anyMatch(seen -> seen.id() == event.id()));
            appendedIds.add(event.id());
        }

        assertEquals(appendedIds, ids(fed), "every event once, in id order, none from before subscribing");
        assertTrue(fed.stream().noneMatch(event -> event.id() == beforeSubscribing.id()));
        assertArrayEquals("1".getBytes(UTF_8), fed.get(0).data());
    }

    @Test
    void throwingListenerDoesNotStopOtherListeners() throws Exception {
        RocksStorage storage = open();
        List<Long> before = Collections.synchronizedList(new ArrayList<>());
        List<Long> after = Collections.synchronizedList(new ArrayList<>());
        storage.feed().subscribe(event -> before.add(event.id()));
        storage.feed().subscribe(event -> {
            throw new IllegalStateException("listener bug (expected in this test)");
        });
        storage.feed().subscribe(event -> after.add(event.id()));

        Event first = await(storage.events().append("acme", "n", json("1")));
        Event second = await(storage.events().append("acme", "n", json("2")));

        assertEquals(List.of(first.id(), second.id()), before);
        assertEquals(List.of(first.id(), second.id()), after);
    }

    @Test
    void closingASubscriptionEndsOnlyThatSubscription() throws Exception {
        RocksStorage storage = open();
        List<Long> fed = Collections.synchronizedList(new ArrayList<>());
        Consumer<Event> listener = event -> fed.add(event.id());
        AutoCloseable first = storage.feed().subscribe(listener);
        AutoCloseable second = storage.feed().subscribe(listener);
        Event seenTwice = await(storage.events().append("acme", "n", json("1")));

        first.close();
        first.close();
        Event seenOnce = await(storage.events().append("acme", "n", json("2")));
        second.close();
        await(storage.events().append("acme", "n", json("3")));

        assertEquals(List.of(seenTwice.id(), seenTwice.id(), seenOnce.id()), fed);
    }
}
