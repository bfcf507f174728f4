package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.awaitLatch;
import static dev.broker.storage.rocksdb.StorageTesting.failureOf;
import static dev.broker.storage.rocksdb.StorageTesting.json;
import static dev.broker.storage.rocksdb.StorageTesting.openWithCommits;
import static dev.broker.storage.rocksdb.StorageTesting.rocksLog;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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

}
