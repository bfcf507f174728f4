package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL files are written over once obsolete instead of piling up: every batch also writes the meta column
 * family, which would otherwise keep each WAL alive until the total WAL size forces a flush; and what was written
 * into a recycled WAL comes back after a reopen.
 */
@Timeout(120)
class RocksWalRecyclingTest {

    private static final int EVENT_BYTES = 256 << 10;
    /**
     * 128 MiB of events: eight memtables' worth, each flush freeing a WAL (without atomic flush, 7 WAL files stayed
     * after 96 MiB).
     */
    private static final int EVENTS = 512;
    private static final int NAMES = 8;

    @TempDir
    Path dir;

    @Test
    void walFilesAreReusedAndWhatTheyHoldSurvivesAReopen() throws Exception {
        byte[] data = ("\"" + "x".repeat(EVENT_BYTES - 2) + "\"").getBytes(StandardCharsets.UTF_8);
        long lastId = 0;
        try (RocksStorage storage = StorageTesting.openWithCommits(dir, UnaryOperator.identity())) {
            for (int i = 0; i < EVENTS; i++) {
                lastId = await(storage.events().append("acme", "n" + i % NAMES, data)).id();
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (walFiles() > RocksStorage.RECYCLED_WAL_FILES + 2 && System.nanoTime() < deadline) {
                Thread.sleep(50); // flushes run in the background
            }
            assertTrue(walFiles() <= RocksStorage.RECYCLED_WAL_FILES + 2,
                    "WAL files: " + walFiles() + " after " + (EVENTS * (long) EVENT_BYTES >> 20) + " MiB");
        }

        try (RocksStorage reopened = StorageTesting.openWithCommits(dir, UnaryOperator.identity())) {
            List<Event> latest = await(reopened.events().latest("acme"));
            assertEquals(NAMES, latest.size());
            assertEquals(lastId, latest.get(latest.size() - 1).id());
            assertArrayEquals(data, latest.get(latest.size() - 1).data());
            assertEquals(lastId + 1, await(reopened.events().append("acme", "after", data)).id());
        }
    }

    private long walFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).count();
        }
    }
}
