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
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.Objects;
import java.util.Timer;
import java.util.TimerTask;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.rocksdb.AbstractNativeReference;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.LiveFileMetaData;
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
 * mutations, one at a time), {@code broker-storage-reader-1..2} (reads), {@code broker-storage-recovery} (reopens
 * the database after a failed write, see {@link RecoveringDatabase}), {@code broker-storage-backup} (checkpoints)
 * and {@code broker-storage-retention} (removes expired events, see {@link Retention}; its timer thread only starts
 * the passes). All end on {@link #close()}.
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
    /**
     * Obsolete WAL files RocksDB keeps to write the next WALs over instead of creating new ones. Appending to a
     * new file grows it, so every {@code fdatasync} of an acknowledged batch must also journal the file's new size;
     * writing over a recycled file of full size leaves its metadata alone, and the sync writes only data (measured on
     * ext4, 5 KB write + {@code fdatasync}: ~115 µs over a written file against ~190 µs appending). A WAL becomes
     * obsolete, and so recyclable, only once every column family with data in it is flushed: hence atomic flush.
     */
    static final int RECYCLED_WAL_FILES = 4;
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

    static final String BACKUP_THREAD_NAME = "broker-storage-backup";
    private static final Duration MIN_RETENTION_INTERVAL = Duration.ofSeconds(1);
    private static final Duration MAX_RETENTION_INTERVAL = Duration.ofHours(1);

    private final Path directory;
    private final Settings settings;
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
    private Retention retention; // set while opening
    private final StorageExecutor backups;
    private final StorageExecutor retentionRuns;
    private Timer retentionTimer; // null while retention is off
    private final AtomicBoolean retentionPassPending = new AtomicBoolean();

    private final Object lifecycleLock = new Object();
    private volatile boolean open;
    private boolean closeStarted; // guarded by lifecycleLock

    /**
     * Opens the store in {@code directory}, creating the directory and the database when missing. Every batch
     * commit of the event writer passes through {@code commitWrapper}: {@link #open} gives the identity; the tests of
     * this package hold a commit in flight or make one fail with it. {@code recovery} says how the store recovers
     * from a failed write.
     */
    RocksStorage(Path directory, UnaryOperator<BatchCommitter> commitWrapper, RecoveringDatabase.Recovery recovery,
                 Settings settings) {
        this.directory = directory;
        this.settings = settings;
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
            retention = new Retention(database, readOptions, syncWrite, settings.clock()::millis,
                    settings.retention().toMillis(), this::lastIssuedId, this::isOpen);
            retention.load();
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
        writer = new GroupCommitWriter(database, commitWrapper.apply(syncedWrite), feed, lastId, this::isOpen,
                settings.clock()::millis);
        eventLog = new RocksEventLog(database, readOptions, writer, readers, retention);
        backups = StorageExecutor.singleThread(BACKUP_THREAD_NAME, this::isOpen);
        retentionRuns = StorageExecutor.singleThread(Retention.THREAD_NAME, this::isOpen);
        userStore = new RocksUserStore(database, readOptions, syncWrite, userMutations, readers);
        open = true;
        writer.start();
        database.start();
        if (!settings.retention().isZero()) {
            Duration interval = retentionInterval(settings.retention());
            retentionTimer = new Timer(Retention.THREAD_NAME + "-timer", true);
            retentionTimer.schedule(new TimerTask() {
                @Override
                public void run() {
                    if (!retentionPassPending.compareAndSet(false, true)) {
                        return; // the last one is still running: passes never pile up
                    }
                    long started = System.nanoTime();
                    trimHistory().whenComplete((trimmed, failure) -> {
                        retentionPassPending.set(false);
                        if (failure == null && trimmed > 0) {
                            LOG.log(Level.INFO, "retention: removed expired events of " + trimmed + " tenants in "
                                    + (System.nanoTime() - started) / 1_000_000 + " ms");
                        } else if (failure != null && isOpen()) {
                            LOG.log(Level.WARNING, "retention pass failed, retried in " + interval + ": "
                                    + failure.getMessage());
                        }
                    });
                }
            }, interval.toMillis(), interval.toMillis());
        }
    }

    RocksStorage(Path directory, UnaryOperator<BatchCommitter> commitWrapper, RecoveringDatabase.Recovery recovery) {
        this(directory, commitWrapper, recovery, Settings.DEFAULT);
    }

    RocksStorage(Path directory, UnaryOperator<BatchCommitter> commitWrapper) {
        this(directory, commitWrapper, RecoveringDatabase.Recovery.DEFAULT);
    }

    /**
     * What a store can be opened with besides its directory.
     *
     * @param retention how long events are kept (the latest event of every name is kept for ever); zero keeps
     *                  every event
     * @param clock     the time of appends and of retention's cut-off (tests pass one they can move)
     */
    public record Settings(Duration retention, Clock clock) {
        public static final Settings DEFAULT = new Settings(Duration.ZERO, Clock.systemUTC());

        public Settings {
            Objects.requireNonNull(retention, "retention");
            Objects.requireNonNull(clock, "clock");
            if (retention.isNegative()) {
                throw new IllegalArgumentException("negative retention: " + retention);
            }
        }
    }

    /** Opens the store in {@code directory}, creating the directory and the database when missing. */
    public static RocksStorage open(Path directory) {
        return open(directory, Settings.DEFAULT);
    }

    /** Opens the store in {@code directory} with {@code settings}, creating the directory and database when missing. */
    public static RocksStorage open(Path directory, Settings settings) {
        return new RocksStorage(directory, UnaryOperator.identity(), RecoveringDatabase.Recovery.DEFAULT, settings);
    }

    /**
     * How often retention runs: a tenth of the retention (so events outlive it by at most a tenth), at least every
     * hour and at most every second.
     */
    static Duration retentionInterval(Duration retention) {
        Duration tenth = retention.dividedBy(10);
        if (tenth.compareTo(MAX_RETENTION_INTERVAL) > 0) {
            return MAX_RETENTION_INTERVAL;
        }
        return tenth.compareTo(MIN_RETENTION_INTERVAL) < 0 ? MIN_RETENTION_INTERVAL : tenth;
    }

    /**
     * Runs a retention pass now, on the retention thread (one at a time; a pass started by the timer meanwhile
     * follows this one): removes the expired events but the latest of every name. Completes with the number of
     * tenants trimmed; 0 while retention is off.
     */
    public CompletableFuture<Integer> trimHistory() {
        return retentionRuns.run("retention", retention::trimAll);
    }

    /**
     * Compacts the events column family now, on the calling thread: what RocksDB does in the background anyway,
     * so that the disk space of removed events is reclaimed at once (tests and maintenance).
     */
    public void compactEvents() {
        try {
            database.read("compact events", db -> {
                db.db().compactRange(db.eventsColumn());
                return null;
            });
        } catch (RocksDBException e) {
            throw new StorageException("compact events: " + e.getMessage(), e);
        }
    }

    /** The bytes of the table files on disk (all column families): what compaction reclaims shows here. */
    public long tableFileBytes() {
        try {
            return database.read("table file bytes", db -> {
                long bytes = 0;
                for (LiveFileMetaData file : db.db().getLiveFilesMetaData()) {
                    bytes += file.size();
                }
                return bytes;
            });
        } catch (RocksDBException e) {
            throw new StorageException("table file bytes: " + e.getMessage(), e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>A RocksDB checkpoint, on the backup thread: table files are hard-linked when {@code target} is on the same
     * file system as the database (cheap, but no protection against losing that disk: copy the backup elsewhere),
     * copied otherwise; the WAL is copied, so the copy holds every acknowledged write. RocksDB builds it under a
     * hidden name next to {@code target} and renames it when complete; a failed attempt leaves nothing behind.
     */
    @Override
    public CompletableFuture<Path> backup(Path target) {
        Objects.requireNonNull(target, "target");
        return backups.run("backup", () -> {
            Path absolute = target.toAbsolutePath().normalize();
            Path parent = absolute.getParent();
            Path partial = parent.resolve("." + absolute.getFileName() + ".partial");
            try {
                Files.createDirectories(parent);
                if (Files.exists(absolute)) {
                    throw new StorageException("backup: " + absolute + " already exists");
                }
                deleteRecursively(partial); // left by a crash during an earlier attempt
            } catch (IOException e) {
                throw new StorageException("backup: cannot create " + parent + ": " + describe(e), e);
            }
            try {
                database.read("backup", db -> {
                    try (Checkpoint checkpoint = Checkpoint.create(db.db())) {
                        checkpoint.createCheckpoint(partial.toString());
                    }
                    return null;
                });
                Files.move(partial, absolute, StandardCopyOption.ATOMIC_MOVE);
                syncDirectory(parent);
            } catch (RocksDBException | IOException | RuntimeException e) {
                try {
                    deleteRecursively(partial);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                String reason = e instanceof IOException io ? describe(io) : e.getMessage();
                throw new StorageException("backup into " + parent + " failed: " + reason, e);
            }
            return absolute;
        });
    }

    private static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "a file is in the way: " + e.getMessage();
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return String.valueOf(e.getMessage());
    }

    /** Makes the rename durable: a backup that was reported complete survives a power loss. */
    private static void syncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path each : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(each);
            }
        }
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
            if (retentionTimer != null) {
                retentionTimer.cancel();
            }
            boolean threadsEnded = writer.close(CLOSE_TIMEOUT);
            threadsEnded &= retentionRuns.shutdownAndAwait(CLOSE_TIMEOUT);
            threadsEnded &= backups.shutdownAndAwait(CLOSE_TIMEOUT);
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
                .setRecycleLogFileNum(RECYCLED_WAL_FILES)
                // Every batch also writes the id counter to the meta column family, whose memtable never fills: on
                // its own it would keep every WAL alive until MAX_TOTAL_WAL_BYTES forces it out. Flushing all
                // column families together frees each WAL at the events' next flush.
                .setAtomicFlush(true)
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
