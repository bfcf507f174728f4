package dev.broker.storage.rocksdb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Tells whether a directory takes writes again, before the store gives up its database to reopen it. */
@FunctionalInterface
interface DirectoryProbe {

    /** Bytes the probe writes: room for RocksDB to open (a new WAL, MANIFEST and info log) and take some writes. */
    int PROBE_BYTES = 1 << 20;

    /** The file the probe writes and deletes; RocksDB leaves files it does not know alone. */
    String PROBE_FILE = "BROKER-WRITE-PROBE";

    /**
     * Creates a file in the directory, writes {@link #PROBE_BYTES}, syncs and deletes it: fails while the disk is
     * full and while the process has no file descriptor to spare.
     */
    DirectoryProbe SYNCED_WRITE = directory -> {
        Path probe = directory.resolve(PROBE_FILE);
        try {
            try (FileChannel channel = FileChannel.open(probe, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ByteBuffer zeros = ByteBuffer.allocate(PROBE_BYTES);
                while (zeros.hasRemaining()) {
                    channel.write(zeros);
                }
                channel.force(true);
            }
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                // next time then
            }
        }
    };

    boolean acceptsWrites(Path directory);
}
