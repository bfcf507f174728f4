package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.failureOf;
import static dev.broker.storage.rocksdb.StorageTesting.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.broker.storage.Event;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageHealth;
import dev.broker.storage.StorageUnavailableException;
import dev.broker.storage.User;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write that fails with an I/O error (here the ENOSPC of a full disk, injected into the writer's commits of a real
 * database) leaves the store unwritable, refusing writes with {@link StorageUnavailableException} while reads go on,
 * until the recovery thread has reopened the database.
 */
@Timeout(60)
class RocksStorageRecoveryTest {

    @TempDir
    Path dir;

    private final List<RocksStorage> opened = new ArrayList<>();
    private final StorageTesting.FillableDisk disk = new StorageTesting.FillableDisk();

    @AfterEach
    void closeStorage() {
        opened.forEach(RocksStorage::close);
    }

    private RocksStorage open() {
        RocksStorage storage = StorageTesting.openWithRecovery(dir, disk::wrap, disk.recovery());
        opened.add(storage);
        return storage;
    }

    private static User user(String username) {
        return new User("id-" + username, username, "acme", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", false);
    }

    private static void awaitWritable(RocksStorage storage) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(StorageTesting.TIMEOUT_SECONDS);
        while (!storage.health().writable()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still unwritable: " + storage.health().reason());
            }
            Thread.sleep(5);
        }
    }

    /** Fills the disk and appends until a write has failed (the one under way fails too, with an unknown outcome). */
    private void breakWrites(RocksStorage storage) throws Exception {
        disk.full.set(true);
        StorageException failure = failureOf(storage.events().append("acme", "doomed", json("0")));
        assertInstanceOf(StorageUnavailableException.class, failure);
    }

    @Test
    void failedWriteMakesTheStoreRefuseWritesUntilTheDiskHasRoomAgain() throws Exception {
        RocksStorage storage = open();
        Event kept = await(storage.events().append("acme", "n", json("\"kept\"")));
        assertTrue(await(storage.users().create(user("alice"))));
        assertEquals(StorageHealth.WRITABLE, storage.health());

        disk.full.set(true);
        StorageException failure = failureOf(storage.events().append("acme", "n", json("\"doomed\"")));
        assertInstanceOf(StorageUnavailableException.class, failure);
        assertTrue(failure.getMessage().startsWith("append events: "), failure.getMessage());
        StorageHealth health = storage.health();
        assertFalse(health.writable());
        assertTrue(health.reason().contains("no space left on device"), health.reason());
        assertFalse(health.reason().contains(dir.toString()), "no paths in the reason: " + health.reason());

        // Every write is refused without trying the disk; reads go on from the old database.
        int commitsTried = disk.commits.get();
        assertInstanceOf(StorageUnavailableException.class,
                failureOf(storage.events().append("acme", "n", json("\"refused\""))));
        assertInstanceOf(StorageUnavailableException.class, failureOf(storage.users().create(user("bob"))));
        assertInstanceOf(StorageUnavailableException.class, failureOf(storage.users().setRevoked("alice", true)));
        assertEquals(commitsTried, disk.commits.get(), "refused appends must not reach the disk");
        assertEquals(List.of(kept.id()), ids(await(storage.events().after("acme", 0, 10))));
        assertEquals(List.of(kept.id()), ids(await(storage.events().latest("acme"))));
        assertTrue(await(storage.users().find("alice")).isPresent());
        assertEquals(kept.id() + 1, await(storage.events().lastIssuedId()), "the failed batch used up its id");

        Thread.sleep(200); // many probes
        assertFalse(storage.health().writable(), "no recovery while the disk is full");
        assertEquals(0, storage.recoveries());

        disk.full.set(false);
        awaitWritable(storage);

        assertEquals(1, storage.recoveries());
        Event later = await(storage.events().append("acme", "n", json("\"later\"")));
        assertEquals(kept.id() + 2, later.id(), "ids of the failed batch are not reused");
        assertTrue(await(storage.users().create(user("bob"))));
        assertEquals(List.of(kept.id(), later.id()), ids(await(storage.events().after("acme", 0, 10))));
        assertEquals(List.of("alice", "bob"), await(storage.users().list()).stream().map(User::username)
                .collect(Collectors.toList()));
    }

    @Test
    void recoveryStoresTheLastIssuedIdSoThatARestartDoesNotReuseIt() throws Exception {
        RocksStorage storage = open();
        Event kept = await(storage.events().append("acme", "n", json("1")));
        breakWrites(storage);
        disk.full.set(false);
        awaitWritable(storage);
        storage.close();

        RocksStorage reopened = open();

        assertEquals(kept.id() + 1, await(reopened.events().lastIssuedId()));
        assertEquals(kept.id() + 2, await(reopened.events().append("acme", "n", json("2"))).id());
    }

    @Test
    void failureThatIsNoIoErrorFailsOnlyItsBatch() throws Exception {
        AtomicBoolean fail = new AtomicBoolean(true);
        UnaryOperator<BatchCommitter> wrapper = real -> (db, batch) -> {
            if (fail.getAndSet(false)) {
                throw new org.rocksdb.RocksDBException("injected failure");
            }
            real.commit(db, batch);
        };
        RocksStorage storage = StorageTesting.openWithRecovery(dir, wrapper, disk.recovery());
        opened.add(storage);

        StorageException failure = failureOf(storage.events().append("acme", "n", json("1")));

        assertFalse(failure instanceof StorageUnavailableException, failure.toString());
        assertTrue(storage.health().writable());
        assertEquals(2, await(storage.events().append("acme", "n", json("2"))).id());
        assertEquals(0, storage.recoveries());
    }

    @Test
    void readsAndWritesDuringRepeatedReopeningSeeEitherTheDatabaseOrUnavailable() throws Exception {
        RocksStorage storage = open();
        for (int i = 0; i < 50; i++) {
            await(storage.events().append(i % 2 == 0 ? "acme" : "globex", "n" + (i % 5), json(Integer.toString(i))));
        }
        assertTrue(await(storage.users().create(user("alice"))));
        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        AtomicInteger succeeded = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int kind = t;
            clients.add(new Thread(() -> {
                while (running.get()) {
                    CompletableFuture<?> call = switch (kind) {
                        case 0 -> storage.events().after("acme", 0, 100);
                        case 1 -> storage.events().latest("globex");
                        case 2 -> storage.users().list();
                        default -> storage.events().append("acme", "busy", json("1"));
                    };
                    try {
                        call.get(StorageTesting.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                        succeeded.incrementAndGet();
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof StorageUnavailableException) {
                            refused.incrementAndGet();
                        } else {
                            unexpected.add(e.getCause());
                        }
                    } catch (InterruptedException | TimeoutException e) {
                        unexpected.add(e);
                    }
                }
            }, "client-" + t));
        }
        clients.forEach(Thread::start);

        for (int round = 0; round < 5; round++) {
            Thread.sleep(20);
            disk.full.set(true);
            while (storage.health().writable()) {
                Thread.sleep(1);
            }
            Thread.sleep(20);
            disk.full.set(false);
            awaitWritable(storage);
        }
        Thread.sleep(20);
        running.set(false);
        for (Thread client : clients) {
            client.join();
        }

        assertEquals(List.of(), List.copyOf(unexpected));
        assertEquals(5, storage.recoveries());
        assertTrue(succeeded.get() > 0 && refused.get() > 0, succeeded + " succeeded, " + refused + " refused");
        List<Event> all = await(storage.events().after("acme", 0, 100_000));
        assertEquals(all.stream().map(Event::id).sorted().collect(Collectors.toList()), ids(all));
        assertEquals(Optional.of("alice"), await(storage.users().find("alice")).map(User::username));
    }

    @Test
    void closingWhileUnwritableEndsTheRecoveryThread() throws Exception {
        RocksStorage storage = open();
        breakWrites(storage);

        storage.close();

        assertFalse(storage.health().writable());
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(thread -> thread.isAlive()
                && thread.getName().equals(RecoveringDatabase.RECOVERY_THREAD_NAME)), "recovery thread still alive");
        assertInstanceOf(StorageException.class, failureOf(storage.events().append("acme", "n", json("1"))));
    }

    @Test
    void reopeningLeaksNoFileDescriptorsAndTheStoreStaysWithinItsBudget() throws Exception {
        Path descriptors = Path.of("/proc/self/fd");
        assumeTrue(Files.isDirectory(descriptors), "needs /proc/self/fd (Linux)");
        long before = count(descriptors);
        RocksStorage storage = open();
        await(storage.events().append("acme", "n", json("1")));
        long afterOpen = count(descriptors);
        long tablesAfterOpen = tableFiles();

        for (int round = 0; round < 5; round++) {
            breakWrites(storage);
            disk.full.set(false);
            awaitWritable(storage);
            await(storage.events().append("acme", "n", json("1")));
        }
        long afterRecoveries = count(descriptors);
        // Each reopening flushes what the WAL held into new table files, which RocksDB then keeps open.
        long newTables = tableFiles() - tablesAfterOpen;
        storage.close();
        opened.remove(storage);

        assertTrue(afterOpen - before <= RocksStorage.FILE_DESCRIPTORS, (afterOpen - before) + " descriptors");
        // A leaked database would hold its WAL, MANIFEST, LOCK, info log and directory: five or more each round.
        assertTrue(afterRecoveries - afterOpen <= newTables + 2, "before " + afterOpen + ", after 5 reopenings "
                + afterRecoveries + " with " + newTables + " new table files");
        assertTrue(count(descriptors) - before <= 2, "after close: " + (count(descriptors) - before) + " more");
    }

    private static long count(Path descriptors) throws IOException {
        try (Stream<Path> entries = Files.list(descriptors)) {
            return entries.count();
        }
    }

    private long tableFiles() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(file -> file.getFileName().toString().endsWith(".sst")).count();
        }
    }

    private static List<Long> ids(List<Event> events) {
        return events.stream().map(Event::id).collect(Collectors.toList());
    }
}
