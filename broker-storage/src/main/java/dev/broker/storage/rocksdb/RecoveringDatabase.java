package dev.broker.storage.rocksdb;

import dev.broker.storage.StorageException;
import dev.broker.storage.StorageHealth;
import dev.broker.storage.StorageUnavailableException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;
import org.rocksdb.WriteOptions;

/**
 * The current {@link OpenDatabase}, replaced under the running store when a write fails with an I/O error.
 *
 * <p>RocksDB stays in its background-error state after a failed WAL write (no space left, too many open files):
 * every later write fails, even once the cause is gone, and rocksdbjni has no {@code resume()}. So:
 * <ul>
 *   <li><b>writable</b>: reads and writes use the open database.
 *   <li><b>failing</b>: a write failed with an I/O error. It is logged once at ERROR; from then on writes are
 *       refused at once with {@link StorageUnavailableException}, reads still use the old database. The recovery
 *       thread probes the directory with back-off ({@link Recovery#firstDelay} doubling to
 *       {@link Recovery#maxDelay}) until it takes a small synced write again.
 *   <li><b>reopening</b>: the old database is closed and a new one opened; reads and writes are refused with
 *       {@link StorageUnavailableException} meanwhile. The new one must first make {@code last_id} durable (the
 *       largest id ever issued, so the ids of a failed batch are never reused); then it is installed, the store is
 *       writable again, and that is logged once at INFO. A failed open is retried with the same back-off.
 * </ul>
 *
 * <p>Nobody uses a closed database: every call runs under the read lock of a {@link ReentrantReadWriteLock}, and
 * the recovery thread takes the write lock to take the database away, so it closes the old one only once no call
 * is running on it. A call must therefore never wait for recovery while it holds the lock; it only signals it.
 */
final class RecoveringDatabase {

    /** A RocksDB call on the current database. */
    @FunctionalInterface
    interface DatabaseCall<T> {
        T call(OpenDatabase database) throws RocksDBException;
    }

    /** Opens a new {@link OpenDatabase} over the same directory. */
    @FunctionalInterface
    interface Opener {
        OpenDatabase open() throws RocksDBException;
    }

    /**
     * How recovery proceeds.
     *
     * @param firstDelay wait before the first attempt, doubled after each failed one
     * @param maxDelay   the longest wait between attempts
     * @param probe      whether the directory takes writes again; reopening is not tried before it does
     */
    record Recovery(Duration firstDelay, Duration maxDelay, DirectoryProbe probe) {
        static final Recovery DEFAULT = new Recovery(Duration.ofMillis(100), Duration.ofSeconds(2),
                DirectoryProbe.SYNCED_WRITE);
    }

    enum State { WRITABLE, FAILING, REOPENING, CLOSED }

    static final String RECOVERY_THREAD_NAME = "broker-storage-recovery";

    private static final System.Logger LOG = System.getLogger(RecoveringDatabase.class.getName());

    private final Path directory;
    private final Opener opener;
    private final ReadOptions readOptions;
    private final WriteOptions syncWrite;
    private final Recovery recovery;
    private final LongSupplier lastIssuedId;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Thread recoveryThread;

    /** Null while reopening and once closed. Written under the write lock. */
    private volatile OpenDatabase current;
    // Guarded by this; volatile for health() and the fast path of the calls.
    private volatile State state = State.WRITABLE;
    private volatile String reason = StorageHealth.WRITABLE.reason();
    private long failedAtNanos; // guarded by this
    private volatile long recoveries;

    /**
     * Takes over {@code opened}. {@code lastIssuedId} tells the largest id issued so far: a new database stores it
     * before it is used.
     */
    RecoveringDatabase(Path directory, OpenDatabase opened, Opener opener, ReadOptions readOptions,
                       WriteOptions syncWrite, Recovery recovery, LongSupplier lastIssuedId) {
        this.directory = directory;
        this.current = opened;
        this.opener = opener;
        this.readOptions = readOptions;
        this.syncWrite = syncWrite;
        this.recovery = recovery;
        this.lastIssuedId = lastIssuedId;
        this.recoveryThread = new Thread(this::recoverWhenFailing, RECOVERY_THREAD_NAME);
        recoveryThread.setDaemon(true); // it holds no work of its own: close() ends it, the JVM need not wait
    }

    void start() {
        recoveryThread.start();
    }

    /** A read on the current database; refused while reopening. */
    <T> T read(String operation, DatabaseCall<T> call) throws RocksDBException {
        lock.readLock().lock();
        try {
            OpenDatabase database = current;
            if (database == null) {
                throw unavailable(operation);
            }
            return call.call(database);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * A call that writes; refused unless writable. An I/O error of the call starts recovery and is thrown as
     * {@link StorageUnavailableException}; any other failure is thrown as it is.
     */
    <T> T write(String operation, DatabaseCall<T> call) throws RocksDBException {
        lock.readLock().lock();
        try {
            OpenDatabase database = current;
            if (database == null || state != State.WRITABLE) {
                throw unavailable(operation);
            }
            try {
                return call.call(database);
            } catch (RocksDBException e) {
                if (!isIoError(e)) {
                    throw e;
                }
                writeFailed(operation, e);
                throw new StorageUnavailableException(operation + ": " + e.getMessage(), e);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    StorageHealth health() {
        return state == State.WRITABLE ? StorageHealth.WRITABLE : StorageHealth.unwritable(reason);
    }

    State state() {
        return state;
    }

    /** How many times the database was reopened since the store opened. */
    long recoveries() {
        return recoveries;
    }

    /**
     * Ends the recovery thread and closes the database. The caller makes sure that no call runs any more. A
     * recovery under way is waited for (an open of RocksDB cannot be interrupted).
     */
    void close() throws RocksDBException {
        synchronized (this) {
            reason = "storage is closed";
            state = State.CLOSED;
            notifyAll();
        }
        recoveryThread.interrupt();
        boolean interrupted = false;
        while (recoveryThread.isAlive()) {
            try {
                recoveryThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        OpenDatabase database;
        lock.writeLock().lock();
        try {
            database = current;
            current = null;
        } finally {
            lock.writeLock().unlock();
        }
        if (database != null) {
            database.close();
        }
    }

    private StorageUnavailableException unavailable(String operation) {
        return new StorageUnavailableException(operation + ": " + reason);
    }

    /** ENOSPC, EMFILE, EIO and the like; RocksDB reports the background error it is stuck in the same way. */
    private static boolean isIoError(RocksDBException e) {
        return e.getStatus() != null && e.getStatus().getCode() == Status.Code.IOError;
    }

    private synchronized void writeFailed(String operation, RocksDBException e) {
        if (state != State.WRITABLE) {
            return; // already known; said once
        }
        reason = "writes are failing (" + cause(e) + "); the store is recovering";
        state = State.FAILING;
        failedAtNanos = System.nanoTime();
        LOG.log(Level.ERROR, "storage " + directory + ": " + operation + " failed: " + e.getMessage()
                + "; writes are refused until the database is reopened, retried in the background");
        notifyAll();
    }

    /** A short cause for operators and load balancers, without paths or data. */
    private static String cause(RocksDBException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (e.getStatus().getSubCode() == Status.SubCode.NoSpace || message.contains("no space left")) {
            return "no space left on device";
        }
        if (message.contains("too many open files")) {
            return "too many open files";
        }
        return "I/O error";
    }

    private void recoverWhenFailing() {
        while (awaitFailure()) {
            long delayNanos = recovery.firstDelay().toNanos();
            int attempts = 0;
            boolean reported = false;
            while (true) {
                if (!pause(delayNanos)) {
                    return;
                }
                attempts++;
                try {
                    if (attempt()) {
                        break;
                    }
                } catch (RocksDBException | RuntimeException e) {
                    if (state == State.CLOSED) {
                        return;
                    }
                    // The first failure says why; the following ones would say the same, every few seconds.
                    LOG.log(reported ? Level.DEBUG : Level.WARNING, "storage " + directory
                            + ": reopening failed (attempt " + attempts + "), retrying: " + e.getMessage());
                    reported = true;
                }
                delayNanos = Math.min(delayNanos * 2, recovery.maxDelay().toNanos());
            }
            long failedForMillis;
            synchronized (this) {
                failedForMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failedAtNanos);
            }
            LOG.log(Level.INFO, "storage " + directory + ": recovered, writes accepted again after "
                    + failedForMillis + " ms (" + attempts + " attempts)");
        }
    }

    /** Waits until a write failed; false once closed. */
    private synchronized boolean awaitFailure() {
        while (state == State.WRITABLE) {
            try {
                wait();
            } catch (InterruptedException e) {
                // only close() interrupts, and it sets CLOSED first
            }
        }
        return state != State.CLOSED;
    }

    /** Sleeps; false when closed meanwhile. */
    private synchronized boolean pause(long nanos) {
        long deadline = System.nanoTime() + nanos;
        long remaining;
        while (state != State.CLOSED && (remaining = deadline - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.timedWait(this, remaining);
            } catch (InterruptedException e) {
                // only close() interrupts, and it sets CLOSED first
            }
        }
        return state != State.CLOSED;
    }

    /** One attempt: true once a new database is installed; false to retry later. */
    private boolean attempt() throws RocksDBException {
        if (current != null) {
            // Reads still work on the old database: keep it until reopening has a chance.
            if (!recovery.probe().acceptsWrites(directory) || !takeAway()) {
                return false;
            }
        }
        OpenDatabase fresh = opener.open();
        try {
            storeLastId(fresh);
        } catch (RocksDBException | RuntimeException e) {
            fresh.close();
            throw e;
        }
        return install(fresh);
    }

    /** Takes the failed database away (waiting for the calls on it to end) and closes it; false once closed. */
    private boolean takeAway() {
        OpenDatabase failed;
        lock.writeLock().lock();
        try {
            synchronized (this) {
                if (state == State.CLOSED) {
                    return false;
                }
                state = State.REOPENING;
            }
            failed = current;
            current = null;
        } finally {
            lock.writeLock().unlock();
        }
        try {
            failed.close();
        } catch (RocksDBException e) {
            // It is released all the same; the error is most likely the one that brought us here.
            LOG.log(Level.DEBUG, "storage " + directory + ": closing the failed database: " + e.getMessage());
        }
        return true;
    }

    /**
     * Makes {@code last_id} durable in the new database: the largest id issued, including those of a batch whose
     * write failed (they must never be issued again). No append commits meanwhile: the store is not writable.
     */
    private void storeLastId(OpenDatabase database) throws RocksDBException {
        byte[] stored = database.db().get(database.metaColumn(), readOptions, KeyCodec.LAST_ID_KEY);
        long storedId = stored != null && stored.length == Long.BYTES ? KeyCodec.getLong(stored, 0) : 0;
        long lastId = Math.max(storedId, lastIssuedId.getAsLong());
        database.db().put(database.metaColumn(), syncWrite, KeyCodec.LAST_ID_KEY, KeyCodec.longBytes(lastId));
    }

    private boolean install(OpenDatabase fresh) throws RocksDBException {
        lock.writeLock().lock();
        try {
            synchronized (this) {
                if (state != State.CLOSED) {
                    current = fresh;
                    state = State.WRITABLE;
                    reason = StorageHealth.WRITABLE.reason();
                    recoveries++;
                    return true;
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
        fresh.close(); // closed meanwhile: nobody will use it
        throw new StorageException("storage closed while reopening");
    }
}
