package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.awaitLatch;
import static dev.broker.storage.rocksdb.StorageTesting.failureOf;
import static dev.broker.storage.rocksdb.StorageTesting.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.StorageException;
import dev.broker.storage.User;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class RocksStorageTest {

    @TempDir
    Path dir;

    private final List<RocksStorage> opened = new ArrayList<>();

    @AfterEach
    void closeStorage() {
        opened.forEach(RocksStorage::close);
    }

    private RocksStorage open(Path directory) {
        return open(directory, UnaryOperator.identity());
    }

    private RocksStorage open(Path directory, UnaryOperator<BatchCommitter> commitWrapper) {
        RocksStorage storage = StorageTesting.openWithCommits(directory, commitWrapper);
        opened.add(storage);
        return storage;
    }

    private static User user(String username, String tenant) {
        return new User("id-" + username, username, tenant, "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", false);
    }

    @Test
    void openCreatesTheMissingDirectory() throws Exception {
        Path nested = dir.resolve("not/yet/there");

        RocksStorage storage = open(nested);

        assertTrue(storage.isOpen());
        assertTrue(Files.isDirectory(nested));
        assertEquals(1, await(storage.events().append("acme", "n", json("1"))).id());
    }

    @Test
    void openingADirectoryAlreadyInUseFails() {
        open(dir);

        StorageException failure = assertThrows(StorageException.class, () -> RocksStorage.open(dir));

        assertTrue(failure.getMessage().startsWith("open "), failure.getMessage());
    }

    @Test
    void idsContinueAfterReopen() throws Exception {
        RocksStorage first = open(dir);
        await(first.events().append("acme", "n", json("1")));
        await(first.events().append("globex", "n", json("2")));
        long lastId = await(first.events().append("acme", "n", json("3"))).id();
        first.close();

        RocksStorage reopened = open(dir);
        Event next = await(reopened.events().append("globex", "n", json("4")));

        assertEquals(lastId + 1, next.id());
    }

    @Test
    void eventsAndUsersSurviveReopen() throws Exception {
        RocksStorage first = open(dir);
        Event order = await(first.events().append("acme", "order", json("{\"total\":3}")));
        Event invoice = await(first.events().append("acme", "invoice", json("{\"n\":7}")));
        assertTrue(await(first.users().create(user("alice", "acme"))));
        assertTrue(await(first.users().create(user("bob", "globex"))));
        await(first.users().setRevoked("bob", true));
        first.close();

        RocksStorage reopened = open(dir);

        List<Event> latest = await(reopened.events().latest("acme"));
        List<Event> after = await(reopened.events().after("acme", 0, 10));
        for (List<Event> read : List.of(latest, after)) {
            assertEquals(2, read.size());
            assertEquals(List.of(order.id(), invoice.id()), read.stream().map(Event::id).collect(Collectors.toList()));
            assertEquals("order", read.get(0).name());
            assertEquals(order.timestamp(), read.get(0).timestamp());
            assertArrayEquals(order.data(), read.get(0).data());
        }
        assertEquals(Optional.of(user("alice", "acme")), await(reopened.users().find("alice")));
        assertEquals(List.of(user("alice", "acme"), user("bob", "globex").withRevoked(true)),
                await(reopened.users().list()));
    }

    @Test
    void closeIsIdempotentAndCompletesQueuedAppends() throws Exception {
        StorageTesting.ControlledCommits commits = new StorageTesting.ControlledCommits(0);
        RocksStorage storage = open(dir, commits::wrap);
        CompletableFuture<Event> inFlight = storage.events().append("acme", "n", json("0"));
        awaitLatch(commits.firstCommitStarted);
        List<CompletableFuture<Event>> queued = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            queued.add(storage.events().append("acme", "n", json(Integer.toString(i))));
        }

        CompletableFuture<Void> closing = CompletableFuture.runAsync(storage::close);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(StorageTesting.TIMEOUT_SECONDS);
        while (storage.isOpen()) {
            assertTrue(System.nanoTime() < deadline, "close did not start");
            Thread.onSpinWait();
        }
        CompletableFuture<Event> duringClose = storage.events().append("acme", "n", json("late"));
        assertEquals("append: storage is closed", failureOf(duringClose).getMessage());
        assertFalse(closing.isDone(), "close must wait for the queued appends");

        commits.releaseFirstCommit.countDown();
        await(closing);
        storage.close();

        List<Long> completedIds = new ArrayList<>();
        completedIds.add(await(inFlight).id());
        for (CompletableFuture<Event> append : queued) {
            completedIds.add(await(append).id());
        }
        RocksStorage reopened = open(dir);
        List<Long> storedIds = await(reopened.events().after("acme", 0, 100)).stream()
                .map(Event::id).collect(Collectors.toList());
        assertEquals(completedIds, storedIds);
    }

    @Test
    void storageThreadsEndOnClose() throws Exception {
        Set<Thread> existing = new HashSet<>(Thread.getAllStackTraces().keySet());
        RocksStorage storage = open(dir);
        await(storage.events().append("acme", "n", json("1")));
        await(storage.events().latest("acme"));
        await(storage.users().create(user("alice", "acme")));
        Set<Thread> storageThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> !existing.contains(thread))
                .filter(thread -> thread.getName().startsWith("broker-storage-"))
                .collect(Collectors.toSet());
        Set<String> names = storageThreads.stream().map(Thread::getName).collect(Collectors.toSet());
        assertTrue(names.containsAll(Set.of("broker-storage-writer", "broker-storage-users",
                "broker-storage-reader-1")), names.toString());

        storage.close();

        for (Thread thread : storageThreads) {
            thread.join(TimeUnit.SECONDS.toMillis(StorageTesting.TIMEOUT_SECONDS));
            assertFalse(thread.isAlive(), thread.getName() + " still running");
        }
    }
}
