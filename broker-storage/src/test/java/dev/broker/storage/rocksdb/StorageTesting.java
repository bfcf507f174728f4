package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.broker.storage.StorageException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

/** Helpers shared by the storage tests. */
final class StorageTesting {

    static final long TIMEOUT_SECONDS = 10;

    private StorageTesting() {
    }

    /**
     * Opens a store whose batch commits all pass through {@code commitWrapper}, such as
     * {@link ControlledCommits#wrap}; {@code RocksStorage.open} is the same with the identity.
     */
    static RocksStorage openWithCommits(Path directory, UnaryOperator<BatchCommitter> commitWrapper) {
        return new RocksStorage(directory, commitWrapper);
    }

    /** Like {@link #openWithCommits}, recovering from failed writes as {@code recovery} says. */
    static RocksStorage openWithRecovery(Path directory, UnaryOperator<BatchCommitter> commitWrapper,
                                         RecoveringDatabase.Recovery recovery) {
        return new RocksStorage(directory, commitWrapper, recovery);
    }

    /** The store's event log as the RocksDB class, whose {@link RocksEventLog#commitStats()} tests check. */
    static RocksEventLog rocksLog(RocksStorage storage) {
        return (RocksEventLog) storage.events();
    }

    static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** The StorageException the future failed with. */
    static StorageException failureOf(CompletableFuture<?> future) {
        ExecutionException thrown = assertThrows(ExecutionException.class,
                () -> future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        return assertInstanceOf(StorageException.class, thrown.getCause());
    }

    static byte[] json(String text) {
        return text.getBytes(UTF_8);
    }

    static void awaitLatch(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("latch not released in time");
        }
    }

    /**
     * Wraps the real commit: the first commit signals {@link #firstCommitStarted} and waits for
     * {@link #releaseFirstCommit}; commit number {@code failingCommit} (1-based, 0 for none) throws instead.
     */
    static final class ControlledCommits {
        final CountDownLatch firstCommitStarted = new CountDownLatch(1);
        final CountDownLatch releaseFirstCommit = new CountDownLatch(1);
        private final AtomicInteger commitNumber = new AtomicInteger();
        private final int failingCommit;

        ControlledCommits(int failingCommit) {
            this.failingCommit = failingCommit;
        }

        BatchCommitter wrap(BatchCommitter real) {
            return (db, batch) -> {
                int number = commitNumber.incrementAndGet();
                if (number == 1) {
                    firstCommitStarted.countDown();
                    try {
                        awaitLatch(releaseFirstCommit);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                if (number == failingCommit) {
                    throw new RocksDBException("injected failure");
                }
                real.commit(db, batch);
            };
        }
    }

    /**
     * A disk that can be made full: while {@link #full} is set, every commit of the event writer fails with the
     * I/O error RocksDB reports for ENOSPC, and the recovery probe finds no room. The database itself is real; only
     * the moment of failure is chosen by the test.
     */
    static final class FillableDisk {
        final AtomicBoolean full = new AtomicBoolean();
        final AtomicInteger commits = new AtomicInteger();

        BatchCommitter wrap(BatchCommitter real) {
            return (db, batch) -> {
                commits.incrementAndGet();
                if (full.get()) {
                    throw new RocksDBException("IO error: While appending to file: 000042.log: No space left on device",
                            new Status(Status.Code.IOError, Status.SubCode.NoSpace, "injected"));
                }
                real.commit(db, batch);
            };
        }

        /** Fast back-off, so tests recover in milliseconds; the probe fails while full. */
        RecoveringDatabase.Recovery recovery() {
            return new RecoveringDatabase.Recovery(Duration.ofMillis(5), Duration.ofMillis(40),
                    directory -> !full.get() && DirectoryProbe.SYNCED_WRITE.acceptsWrites(directory));
        }
    }
}
