package dev.broker.storage.jetstream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.StorageUnavailableException;
import dev.broker.storage.User;
import dev.broker.storage.testing.NatsServers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * JetStreamStorage on a three-node JetStream cluster, replicas 3: node failures, a whole-cluster outage, and two
 * stores (two Broker edges) sharing one stream and bucket. Every test uses its own prefix and leaves every node
 * running.
 */
@Timeout(180)
class JetStreamClusterTest {

    private static final long TIMEOUT_SECONDS = 30;

    @TempDir
    static Path natsDir;
    private static NatsServers nats;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private final List<JetStreamStorage> opened = new ArrayList<>();
    private String prefix;

    @BeforeAll
    static void startCluster() {
        nats = NatsServers.cluster(natsDir);
    }

    @AfterAll
    static void stopCluster() {
        if (nats != null) {
            nats.close();
        }
    }

    @AfterEach
    void closeStores() {
        opened.forEach(JetStreamStorage::close);
    }

    private JetStreamStorage open() {
        if (prefix == null) {
            prefix = "cluster" + PREFIXES.incrementAndGet();
        }
        JetStreamStorage storage = JetStreamStorage.open(nats.settings(3, prefix));
        opened.add(storage);
        return storage;
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private static byte[] json(String text) {
        return text.getBytes(UTF_8);
    }

    private static void awaitCondition(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + TIMEOUT_SECONDS + " s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void killingOneNodeDuringConcurrentAppendsLosesNothingAcknowledged() throws Exception {
        JetStreamStorage storage = open();
        List<Event> fed = new CopyOnWriteArrayList<>();
        storage.feed().subscribe(fed::add);
        int appenders = 16;
        AtomicBoolean stop = new AtomicBoolean();
        List<List<Event>> acknowledged = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch hundredEach = new CountDownLatch(appenders);
        for (int a = 0; a < appenders; a++) {
            List<Event> mine = Collections.synchronizedList(new ArrayList<>());
            acknowledged.add(mine);
            String tenant = "tenant-" + (a % 4);
            Thread thread = new Thread(() -> {
                int i = 0;
                while (!stop.get()) {
                    try {
                        mine.add(storage.events().append(tenant, "n" + (i % 5), json(Integer.toString(i)))
                                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
                    } catch (ExecutionException e) {
                        // the outcome of an append under way when the node died is unknown: not acknowledged
                        assertInstanceOf(StorageUnavailableException.class, e.getCause());
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    if (++i == 100) {
                        hundredEach.countDown();
                    }
                }
            }, "appender-" + a);
            threads.add(thread);
            thread.start();
        }
        try {
            assertTrue(hundredEach.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            int before = acknowledged.stream().mapToInt(List::size).sum();
            nats.kill(1);
            // Appends go on, on the two nodes left, once the stream has a leader again.
            awaitCondition(() -> acknowledged.stream().mapToInt(List::size).sum() > before + 200,
                    "appends acknowledged after the kill");
        } finally {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            }
            nats.start(1);
        }

        List<Long> all = new ArrayList<>();
        for (List<Event> mine : acknowledged) {
            List<Long> ids = mine.stream().map(Event::id).collect(Collectors.toList());
            List<Long> sorted = new ArrayList<>(ids);
            Collections.sort(sorted);
            assertEquals(sorted, ids, "one appender's acknowledged ids are strictly increasing");
            all.addAll(ids);
        }
        assertEquals(all.size(), all.stream().distinct().count(), "no id acknowledged twice");
        List<Long> stored = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            List<Event> page;
            long after = 0;
            do {
                page = await(storage.events().after("tenant-" + t, after, 5000));
                page.forEach(event -> stored.add(event.id()));
                if (!page.isEmpty()) {
                    after = page.get(page.size() - 1).id();
                }
            } while (!page.isEmpty());
        }
        assertTrue(stored.containsAll(all), "every acknowledged append is stored");
        await(storage.feed().caughtUp());
        List<Long> fedIds = fed.stream().map(Event::id).collect(Collectors.toList());
        List<Long> sortedFed = new ArrayList<>(fedIds);
        Collections.sort(sortedFed);
        assertEquals(sortedFed, fedIds, "the feed delivers in id order");
        assertEquals(fedIds.size(), fedIds.stream().distinct().count(), "the feed delivers each event once");
        assertTrue(fedIds.containsAll(all), "the feed delivered every acknowledged append");
    }

    @Test
    void readsRightAfterANodeRestartSeeEveryAcknowledgedAppend() throws Exception {
        JetStreamStorage storage = open();
        List<Event> appended = new ArrayList<>();
        nats.kill(2);
        try {
            awaitCondition(() -> storage.events().append("warm-up", "n", json("1")).handle((ok, failed) -> ok != null)
                    .join(), "the stream has a leader among the two servers left");
            for (int batch = 0; batch < 30; batch++) {
                List<CompletableFuture<Event>> appends = new ArrayList<>();
                for (int i = batch * 100; i < (batch + 1) * 100; i++) {
                    // 16 KiB each: some 50 MB for the restarted server to catch up with
                    appends.add(storage.events().append("acme", "n" + (i % 50), new byte[16 << 10]));
                }
                for (CompletableFuture<Event> append : appends) {
                    appended.add(await(append));
                }
            }
        } finally {
            nats.start(2); // healthy, but its replica of the stream is still catching up
        }
        List<Long> expectedLatest = appended.subList(appended.size() - 50, appended.size()).stream()
                .map(Event::id).collect(Collectors.toList());

        // Read consumers land on any of the three servers, the one catching up included.
        for (int read = 0; read < 12; read++) {
            assertEquals(expectedLatest, await(storage.events().latest("acme")).stream().map(Event::id)
                    .collect(Collectors.toList()), "a snapshot holds every acknowledged append");
            List<Event> tail = await(storage.events().after("acme", appended.get(2899).id(), 1000));
            assertEquals(100, tail.size(), "a page holds every acknowledged append");
        }
    }

    @Test
    void aWholeClusterOutageFailsAppendsFastAndTheStoreRecoversWithoutAGap() throws Exception {
        JetStreamStorage storage = open();
        List<Long> fed = new CopyOnWriteArrayList<>();
        storage.feed().subscribe(event -> fed.add(event.id()));
        List<User> changes = new CopyOnWriteArrayList<>();
        storage.users().changes().subscribe(changes::add);
        Event beforeOutage = await(storage.events().append("acme", "n", json("1")));
        Event outcome;
        try {
            nats.stopAll();
            awaitCondition(() -> !storage.health().writable(), "health turns unwritable");

            long started = System.nanoTime();
            CompletableFuture<Event> refused = storage.events().append("acme", "n", json("2"));
            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> refused.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertInstanceOf(StorageUnavailableException.class, failure.getCause());
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(1), "refused at once");
            assertFalse(storage.health().reason().isBlank());
        } finally {
            nats.startAll();
        }

        awaitCondition(() -> storage.health().writable(), "health writable again by itself");
        // JetStream may need a moment more than the health check to take appends again: retry until one lands.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (true) {
            try {
                outcome = await(storage.events().append("acme", "n", json("3")));
                break;
            } catch (ExecutionException e) {
                assertInstanceOf(StorageUnavailableException.class, e.getCause());
                assertTrue(System.nanoTime() < deadline, "appends work again");
            }
        }
        Event afterOutage = await(storage.events().append("acme", "n", json("4")));

        awaitCondition(() -> fed.contains(afterOutage.id()), "the feed resumes after the outage");
        List<Long> stored = await(storage.events().after("acme", 0, 100)).stream().map(Event::id)
                .collect(Collectors.toList());
        assertEquals(stored, fed, "the feed resumed where it stopped: no gap, no duplicate");
        assertTrue(stored.containsAll(List.of(beforeOutage.id(), outcome.id(), afterOutage.id())));

        User created = new User("u-1", "after-the-outage", "acme", "hash", false);
        assertTrue(await(storage.users().create(created)));
        awaitCondition(() -> changes.contains(created), "the users' change feed resumes after the outage");
    }

    @Test
    void twoStoresOnOneClusterShareUsersEventsAndTheFeed() throws Exception {
        JetStreamStorage edgeA = open();
        JetStreamStorage edgeB = open();

        // Uniqueness across stores.
        List<CompletableFuture<Boolean>> creates = List.of(
                edgeA.users().create(new User("u-a", "alice", "acme", "hash-a", false)),
                edgeB.users().create(new User("u-b", "alice", "globex", "hash-b", false)),
                edgeA.users().create(new User("u-c", "alice", "initech", "hash-c", false)),
                edgeB.users().create(new User("u-d", "alice", "umbrella", "hash-d", false)));
        int winners = 0;
        for (CompletableFuture<Boolean> create : creates) {
            winners += await(create) ? 1 : 0;
        }
        assertEquals(1, winners);
        assertEquals(await(edgeA.users().find("alice")), await(edgeB.users().find("alice")));

        // A change on A arrives on B's change feed.
        List<User> changesOnB = new CopyOnWriteArrayList<>();
        edgeB.users().changes().subscribe(changesOnB::add);
        Optional<User> revoked = await(edgeA.users().setRevoked("alice", true));
        assertTrue(revoked.isPresent());
        awaitCondition(() -> changesOnB.contains(revoked.get()), "A's revocation on B's change feed");
        assertEquals(revoked, await(edgeB.users().find("alice")));

        // An append on A is in B's feed, and B's caughtUp completes only once B's listeners have it.
        CountDownLatch listenerHolding = new CountDownLatch(1);
        CountDownLatch releaseListener = new CountDownLatch(1);
        List<Long> fedOnB = new CopyOnWriteArrayList<>();
        edgeB.feed().subscribe(event -> {
            if (event.tenant().equals("held")) {
                listenerHolding.countDown();
                try {
                    releaseListener.await(TIMEOUT_SECONDS, TimeUnit.SECONDS); // a test-only stall of B's feed
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            fedOnB.add(event.id());
        });
        Event onA = await(edgeA.events().append("held", "n", json("1")));
        assertTrue(listenerHolding.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        CompletableFuture<Void> caughtUp = edgeB.feed().caughtUp();
        assertFalse(caughtUp.isDone(), "B's feed is still handing the event to its listeners");
        releaseListener.countDown();
        await(caughtUp);
        assertTrue(fedOnB.contains(onA.id()));

        // Ids are one sequence across both stores.
        Event onB = await(edgeB.events().append("held", "n", json("2")));
        assertTrue(onB.id() > onA.id());
        assertEquals(List.of(onB.id()), await(edgeA.events().latest("held")).stream().map(Event::id)
                .collect(Collectors.toList()));
        await(edgeA.feed().caughtUp());
    }
}
