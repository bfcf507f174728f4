package dev.broker.storage.rocksdb;

import dev.broker.storage.CommitObserver;
import dev.broker.storage.EventFeed;
import dev.broker.storage.EventLog;
import dev.broker.storage.Storage;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageHealth;
import dev.broker.storage.UserStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.rocksdb.AbstractNativeReference;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

/**
 * The embedded RocksDB storage: owns the database, its native options, the column families and the storage threads,
 * and closes them in a fixed order.
 *
 * <p>Column families: {@code users} (by username), {@code events} (the per-tenant log), {@code latest} (latest event
 * per tenant and name), {@code meta} ({@code last_id}), plus RocksDB's {@code default}, unused.
 *
 * <p>Threads: {@code broker-storage-writer} (all event appends, group-committed), {@code broker-storage-users} (user
 * mutations, one at a time), {@code broker-storage-reader-1..2} (reads) and {@code broker-storage-recovery} (reopens
 * the database after a failed write, see {@link RecoveringDatabase}). All end on {@link #close()}.
 */
public final class RocksStorage implements Storage {

    static {
        RocksDB.loadLibrary();
    }

    private static final System.Logger LOG = System.getLogger(RocksStorage.class.getName());

    // Modest on purpose: the server shares a 2-core machine with the JVM and Netty.
    private static final long BLOCK_CACHE_BYTES = 64L << 20;
    /** Memtable size of each column family. */
    private static final long WRITE_BUFFER_BYTES = 16L << 20;
    /** All memtables together; past it the largest is flushed. */
    private static final long TOTAL_WRITE_BUFFER_BYTES = 64L << 20;
    /** Forces flushes of rarely written column families (users, meta) so that old WAL files can be deleted. */
    private static final long MAX_TOTAL_WAL_BYTES = 256L << 20;
    private static final int MAX_BACKGROUND_JOBS = 2;
    private static final int KEPT_INFO_LOG_FILES = 5;
    /**
     * Files RocksDB keeps open, table files included (it keeps 10 of them for its other files). RocksDB's default,
     * unlimited, keeps every table file open, so a growing database takes ever more descriptors from the sockets
     * (and needs them all again to reopen). 256 table files of 64 MiB cover 16 GiB before table files are closed and
     * reopened on demand.
     */
    static final int MAX_OPEN_FILES = 256;
    /**
     * Descriptors beyond {@link #MAX_OPEN_FILES} that the store may hold at once: WAL files not yet flushed (one
     * per unflushed memtable), flush and compaction outputs ({@link #MAX_BACKGROUND_JOBS}), the directory, the
     * MANIFEST, LOCK and info log while reopening, and the recovery probe. Measured on Linux: a fresh store holds 11;
     * one with 300 table files at most 225 while every one of them is read.
     */
    private static final int OTHER_FILES = 32;
    /**
     * How many file descriptors the store keeps for itself, at most. A server that caps its connections should
     * keep this many (plus the JVM's own) below the open-files limit, so that sockets cannot starve the store.
     */
    public static final int FILE_DESCRIPTORS = MAX_OPEN_FILES + OTHER_FILES;
    private static final int READER_THREADS = 2;
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Path directory;
    private final LocalFeed.Events feed = new LocalFeed.Events();

    // Native objects, in creation order; closeNatives() releases them in reverse. They outlive every reopening of
    // the database. Not final: a failed open releases whichever were created.
    private Cache blockCache;
    private ColumnFamilyOptions columnFamilyOptions;
    private DBOptions dbOptions;
    private WriteOptions syncWrite;
    private ReadOptions readOptions;
    private RecoveringDatabase database;

    private final GroupCommitWriter writer;
    private final StorageExecutor userMutations;
    private final StorageExecutor readers;
    private final RocksEventLog eventLog;
    private final RocksUserStore userStore;

    private final Object lifecycleLock = new Object();
    private volatile boolean open;
    private boolean closeStarted; // guarded by lifecycleLock

    /**
     * Opens the store in {@code directory}, creating the directory and the database when missing. Every batch
     * commit of the event writer passes through {@code commitWrapper}: {@link #open} gives the identity; the tests of
     * this package hold a commit in flight or make one fail with it. {@code recovery} says how the store recovers
     * from a failed write.
     */
    RocksStorage(Path directory, UnaryOperator<BatchCommitter> commitWrapper, RecoveringDatabase.Recovery recovery) {
        this.directory = directory;
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new StorageException("open " + directory + ": cannot create the directory: " + e, e);
        }
        long lastId;
        try {
            createOptions();
            OpenDatabase opened = openDatabase();
            database = new RecoveringDatabase(directory, opened, this::openDatabase, readOptions, syncWrite,
                    recovery, this::lastIssuedId);
            lastId = database.read("open", this::readLastId);
        } catch (RocksDBException e) {
            closeNativesAfterFailedOpen();
            throw new StorageException("open " + directory + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeNativesAfterFailedOpen();
            throw e;
        }
        readers = StorageExecutor.pool("broker-storage-reader-", READER_THREADS, this::isOpen);
        userMutations = StorageExecutor.singleThread("broker-storage-users", this::isOpen);
        WriteOptions durable = syncWrite;
        BatchCommitter syncedWrite = (db, batch) -> db.write(durable, batch);
        writer = new GroupCommitWriter(database, commitWrapper.apply(syncedWrite), feed, lastId, this::isOpen);
        eventLog = new RocksEventLog(database, readOptions, writer, readers);
        userStore = new RocksUserStore(database, readOptions, syncWrite, userMutations, readers);
        open = true;
        writer.start();
        database.start();
    }

    RocksStorage(Path directory, UnaryOperator<BatchCommitter> commitWrapper) {
        this(directory, commitWrapper, RecoveringDatabase.Recovery.DEFAULT);
    }

    /** Opens the store in {@code directory}, creating the directory and the database when missing. */
    public static RocksStorage open(Path directory) {
        return new RocksStorage(directory, UnaryOperator.identity());
    }

    @Override
    public UserStore users() {
        return userStore;
    }

    @Override
    public EventLog events() {
        return eventLog;
    }

    @Override
    public EventFeed feed() {
        return feed;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public StorageHealth health() {
        return open ? database.health() : StorageHealth.unwritable("storage is closed");
    }

    @Override
    public void observeCommits(CommitObserver observer) {
        eventLog.observeCommits(observer);
    }

    /** How many times the database was reopened after a failed write since the store opened. */
    long recoveries() {
        return database.recoveries();
    }

    /**
     * Closes in this order: (1) refuse new work; (2) the writer makes every queued append durable, publishes it and
     * completes its future, then ends; (3) queued user mutations, then queued reads, run and their threads end;
     * (4) the recovery thread ends (after a reopening under way), then the natives: column family handles, the
     * database, then the options and the block cache it was opened with. Should a thread not end within the
     * timeout, RocksDB is left open: closing it under a running call would crash the JVM. Idempotent; a concurrent
     * second call waits for the first.
     */
    @Override
    public void close() {
        synchronized (lifecycleLock) {
            if (closeStarted) {
                return;
            }
            closeStarted = true;
            open = false;
            boolean threadsEnded = writer.close(CLOSE_TIMEOUT);
            threadsEnded &= userMutations.shutdownAndAwait(CLOSE_TIMEOUT);
            threadsEnded &= readers.shutdownAndAwait(CLOSE_TIMEOUT);
            if (!threadsEnded) {
                LOG.log(Level.ERROR, "close " + directory + ": storage threads still running, RocksDB left open");
                throw new StorageException("close: storage threads did not end within " + CLOSE_TIMEOUT
                        + "; RocksDB left open");
            }
            closeNatives();
        }
    }

    private void createOptions() {
        blockCache = new LRUCache(BLOCK_CACHE_BYTES);
        columnFamilyOptions = new ColumnFamilyOptions()
                .setWriteBufferSize(WRITE_BUFFER_BYTES)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache));
        dbOptions = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(MAX_BACKGROUND_JOBS)
                .setDbWriteBufferSize(TOTAL_WRITE_BUFFER_BYTES)
                .setMaxTotalWalSize(MAX_TOTAL_WAL_BYTES)
                .setMaxOpenFiles(MAX_OPEN_FILES)
                .setKeepLogFileNum(KEPT_INFO_LOG_FILES);
        // Every write is acknowledged only once fsync'd; the WAL stays enabled (the default).
        syncWrite = new WriteOptions().setSync(true);
        readOptions = new ReadOptions();
    }

    private OpenDatabase openDatabase() throws RocksDBException {
        return OpenDatabase.open(directory, dbOptions, columnFamilyOptions);
    }

    private long lastIssuedId() {
        return writer.lastIssuedId();
    }

    /** The last id assigned before this open; 0 for a new database. */
    private long readLastId(OpenDatabase opened) throws RocksDBException {
        byte[] value = opened.db().get(opened.metaColumn(), readOptions, KeyCodec.LAST_ID_KEY);
        if (value == null) {
            return 0;
        }
        if (value.length != Long.BYTES) {
            throw new StorageException("open " + directory + ": corrupt last_id of " + value.length + " bytes");
        }
        return KeyCodec.getLong(value, 0);
    }

    /** The database before the options and cache it uses. */
    private void closeNatives() {
        RocksDBException failure = null;
        if (database != null) {
            try {
                database.close();
            } catch (RocksDBException e) {
                failure = e; // still release the rest
            }
        }
        closeIfCreated(readOptions);
        closeIfCreated(syncWrite);
        closeIfCreated(dbOptions);
        closeIfCreated(columnFamilyOptions);
        closeIfCreated(blockCache);
        if (failure != null) {
            throw new StorageException("close: " + failure.getMessage(), failure);
        }
    }

    private void closeNativesAfterFailedOpen() {
        try {
            closeNatives();
        } catch (StorageException e) {
            LOG.log(Level.WARNING, "open " + directory + ": cleanup after failed open", e);
        }
    }

    private static void closeIfCreated(AbstractNativeReference nativeObject) {
        if (nativeObject != null) {
            nativeObject.close();
        }
    }
}
