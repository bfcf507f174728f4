package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.EventFeed;
import dev.broker.storage.EventLog;
import dev.broker.storage.Storage;
import dev.broker.storage.StorageException;
import dev.broker.storage.UserStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.rocksdb.AbstractNativeReference;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
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
 * mutations, one at a time) and {@code broker-storage-reader-1..2} (reads). All end on {@link #close()}.
 */
public final class RocksStorage implements Storage {

    static {
        RocksDB.loadLibrary();
    }

    private static final System.Logger LOG = System.getLogger(RocksStorage.class.getName());

    static final String USERS_COLUMN = "users";
    static final String EVENTS_COLUMN = "events";
    static final String LATEST_COLUMN = "latest";
    static final String META_COLUMN = "meta";
    /** Opened in this order, so handle i belongs to name i. */
    private static final List<byte[]> REQUIRED_COLUMNS = List.of(RocksDB.DEFAULT_COLUMN_FAMILY,
            USERS_COLUMN.getBytes(UTF_8), EVENTS_COLUMN.getBytes(UTF_8), LATEST_COLUMN.getBytes(UTF_8),
            META_COLUMN.getBytes(UTF_8));

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
    private static final int READER_THREADS = 2;
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Path directory;
    private final LocalEventFeed feed = new LocalEventFeed();

    // Native objects, in creation order; closeNatives() releases them in reverse. Not final: a failed open
    // releases whichever were created.
    private Cache blockCache;
    private ColumnFamilyOptions columnFamilyOptions;
    private DBOptions dbOptions;
    private WriteOptions syncWrite;
    private ReadOptions readOptions;
    private RocksDB db;
    /** Every opened handle, including default and any column family this version does not know. */
    private final List<ColumnFamilyHandle> columnFamilyHandles = new ArrayList<>();
    private ColumnFamilyHandle usersColumn;
    private ColumnFamilyHandle eventsColumn;
    private ColumnFamilyHandle latestColumn;
    private ColumnFamilyHandle metaColumn;

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
     * this package hold a commit in flight or make one fail with it.
     */
    RocksStorage(Path directory, UnaryOperator<BatchCommitter> commitWrapper) {
        this.directory = directory;
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new StorageException("open " + directory + ": cannot create the directory: " + e, e);
        }
        long lastId;
        try {
            openNatives();
            lastId = readLastId();
        } catch (RocksDBException e) {
            closeNativesAfterFailedOpen();
            throw new StorageException("open " + directory + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeNativesAfterFailedOpen();
            throw e;
        }
        readers = StorageExecutor.pool("broker-storage-reader-", READER_THREADS, this::isOpen);
        userMutations = StorageExecutor.singleThread("broker-storage-users", this::isOpen);
        RocksDB database = db;
        WriteOptions durable = syncWrite;
        BatchCommitter syncedWrite = batch -> database.write(durable, batch);
        writer = new GroupCommitWriter(eventsColumn, latestColumn, metaColumn, commitWrapper.apply(syncedWrite),
                feed, lastId, this::isOpen);
        eventLog = new RocksEventLog(db, readOptions, eventsColumn, latestColumn, writer, readers);
        userStore = new RocksUserStore(db, readOptions, syncWrite, usersColumn, userMutations, readers);
        open = true;
        writer.start();
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

    /**
     * Closes in this order: (1) refuse new work; (2) the writer makes every queued append durable, publishes it and
     * completes its future, then ends; (3) queued user mutations, then queued reads, run and their threads end;
     * (4) the natives: column family handles, the database, then the options and the block cache it was opened
     * with. Should a thread not end within the timeout, RocksDB is left open: closing it under a running call would
     * crash the JVM. Idempotent; a concurrent second call waits for the first.
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

    private void openNatives() throws RocksDBException {
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
                .setKeepLogFileNum(KEPT_INFO_LOG_FILES);
        // Every write is acknowledged only once fsync'd; the WAL stays enabled (the default).
        syncWrite = new WriteOptions().setSync(true);
        readOptions = new ReadOptions();

        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (byte[] name : columnFamiliesToOpen()) {
            descriptors.add(new ColumnFamilyDescriptor(name, columnFamilyOptions));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
        columnFamilyHandles.addAll(handles);
        usersColumn = handles.get(1);
        eventsColumn = handles.get(2);
        latestColumn = handles.get(3);
        metaColumn = handles.get(4);
    }

    /**
     * The required column families first (missing ones are created by create_missing_column_families), then any
     * other the database already has: RocksDB refuses to open a database without all of its column families.
     */
    private List<byte[]> columnFamiliesToOpen() throws RocksDBException {
        List<byte[]> names = new ArrayList<>(REQUIRED_COLUMNS);
        for (byte[] existing : existingColumnFamilies()) {
            if (names.stream().noneMatch(name -> Arrays.equals(name, existing))) {
                names.add(existing);
            }
        }
        return names;
    }

    private List<byte[]> existingColumnFamilies() throws RocksDBException {
        // listColumnFamilies fails on a directory without a database; any other failure must surface.
        if (!Files.exists(directory.resolve("CURRENT"))) {
            return List.of();
        }
        try (Options options = new Options()) {
            return RocksDB.listColumnFamilies(options, directory.toString());
        }
    }

    /** The last id assigned before this open; 0 for a new database. */
    private long readLastId() throws RocksDBException {
        byte[] value = db.get(metaColumn, readOptions, KeyCodec.LAST_ID_KEY);
        if (value == null) {
            return 0;
        }
        if (value.length != Long.BYTES) {
            throw new StorageException("open " + directory + ": corrupt last_id of " + value.length + " bytes");
        }
        return KeyCodec.getLong(value, 0);
    }

    /** Handles before the database that owns them; the database before the options and cache it uses. */
    private void closeNatives() {
        columnFamilyHandles.forEach(ColumnFamilyHandle::close);
        RocksDBException failure = null;
        if (db != null) {
            try {
                db.closeE();
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
