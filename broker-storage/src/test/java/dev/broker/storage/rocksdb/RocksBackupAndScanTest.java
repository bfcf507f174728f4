package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.failureOf;
import static dev.broker.storage.rocksdb.StorageTesting.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.storage.StorageException;
import dev.broker.storage.User;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The online backup (a checkpoint), the scan of all tenants in id order, and appends that keep a timestamp. */
class RocksBackupAndScanTest {

    @TempDir
    Path dir;

    private RocksStorage storage;

    @AfterEach
    void close() {
        if (storage != null) {
            storage.close();
        }
    }

    private static List<Long> ids(List<Event> events) {
        return events.stream().map(Event::id).collect(Collectors.toList());
    }

    @Test
    void backupHoldsEveryAcknowledgedWriteAndOpensAsAStore() throws Exception {
        storage = RocksStorage.open(dir.resolve("db"));
        assertTrue(await(storage.users().create(new User("id-1", "alice", "acme", "$argon2id$hash", false))));
        List<Event> appended = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            appended.add(await(storage.events().append(i % 2 == 0 ? "acme" : "globex", "n" + (i % 7),
                    json(Integer.toString(i)))));
        }
        Path target = dir.resolve("backups").resolve("b1");

        assertEquals(target.toAbsolutePath(), await(storage.backup(target)));
        await(storage.events().append("acme", "after-backup", json("1")));

        try (Stream<Path> left = Files.list(target.getParent())) {
            assertEquals(List.of(target.toAbsolutePath()), left.map(Path::toAbsolutePath).toList(),
                    "no partial directory is left next to the backup");
        }
        try (RocksStorage restored = RocksStorage.open(target)) {
            assertEquals("alice", await(restored.users().find("alice")).orElseThrow().username());
            List<Event> all = await(restored.events().scan(0, 1000, Long.MAX_VALUE));
            assertEquals(ids(appended), ids(all));
            assertEquals(await(storage.events().latest("globex")).size(),
                    await(restored.events().latest("globex")).size());
        }
    }

    @Test
    void backupIntoAnExistingOrUnwritablePlaceFailsAndLeavesNothing() throws Exception {
        storage = RocksStorage.open(dir.resolve("db"));
        Path existing = Files.createDirectories(dir.resolve("taken"));
        StorageException exists = failureOf(storage.backup(existing));
        assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());

        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");
        StorageException blocked = failureOf(storage.backup(file.resolve("b1")));
        assertTrue(blocked.getMessage().startsWith("backup: cannot create"), blocked.getMessage());
        assertFalse(Files.exists(file.resolve("b1")));
    }

    @Test
    void scanMergesTheTenantsInIdOrderWithinItsBounds() throws Exception {
        storage = RocksStorage.open(dir.resolve("db"));
        EventLog log = storage.events();
        List<Event> appended = new ArrayList<>();
        String[] tenants = {"b", "a", "ab", "zz", "a"};
        for (int i = 0; i < 50; i++) {
            appended.add(await(log.append(tenants[i % tenants.length], "n", json(Integer.toString(i)))));
        }

        assertEquals(ids(appended), ids(await(log.scan(0, 1000, Long.MAX_VALUE))));
        assertEquals(ids(appended.subList(10, 17)), ids(await(log.scan(appended.get(9).id(), 7, Long.MAX_VALUE))));
        assertEquals(1, await(log.scan(0, 10, 1)).size(), "the data bound ends the page after one event");
        assertEquals(List.of(), await(log.scan(appended.get(49).id(), 10, Long.MAX_VALUE)));
        Event first = await(log.scan(0, 1, Long.MAX_VALUE)).get(0);
        assertEquals("b", first.tenant());
        assertEquals("0", new String(first.data(), java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void scanMergesMoreTenantsThanItHasIteratorsFor() throws Exception {
        storage = RocksStorage.open(dir.resolve("db"));
        EventLog log = storage.events();
        int tenants = RocksEventLog.SCAN_ITERATORS + 44;
        List<java.util.concurrent.CompletableFuture<Event>> appends = new ArrayList<>();
        for (int i = 0; i < 3 * tenants; i++) {
            // Tenants in an order their keys do not sort in, and interleaved.
            appends.add(log.append("t" + ((i * 7919) % tenants), "n", json(Integer.toString(i))));
        }
        List<Long> appended = new ArrayList<>();
        for (var append : appends) {
            appended.add(await(append).id());
        }
        List<Long> scanned = new ArrayList<>();
        long after = 0;
        List<Event> page;
        while (!(page = await(log.scan(after, 100, Long.MAX_VALUE))).isEmpty()) {
            scanned.addAll(ids(page));
            after = page.get(page.size() - 1).id();
        }
        assertEquals(appended, scanned);
    }

    @Test
    void appendAtKeepsTheTimestamp() throws Exception {
        storage = RocksStorage.open(dir.resolve("db"));
        Event imported = await(storage.events().appendAt("acme", "n", json("1"), 1_000L));
        assertEquals(1_000L, imported.timestamp());
        assertEquals(1_000L, await(storage.events().after("acme", 0, 10)).get(0).timestamp());
        assertEquals(1_000L, await(storage.events().latest("acme")).get(0).timestamp());
    }
}
