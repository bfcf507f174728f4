package dev.broker.storage.rocksdb;

import dev.broker.storage.CommitObserver;
import dev.broker.storage.Event;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The single writer of the event log. Appends queue up; the writer thread takes everything queued (up to
 * {@link #MAX_BATCH}), assigns consecutive ids, and makes all of it durable with one batch write and one sync. While
 * that sync is in flight new appends accumulate, so the batch size follows the backlog.
 *
 * <p>Each batch is written through {@link RecoveringDatabase#write}: while the store cannot write, a batch fails at
 * once with {@link StorageUnavailableException} and uses up no id.
 *
 * <p>Being the only writer is what gives the ordering guarantee of {@code EventLog}: batches become visible in id
 * order, each only after its sync, and the events are handed to the feed in id order before the next batch starts.
 */
final class GroupCommitWriter {

    static final String THREAD_NAME = "broker-storage-writer";
    /** Bounds one write batch, and with it the latency of the appends at the head of a long backlog. */
    static final int MAX_BATCH = 4096;
    /** Bounds memory under overload: beyond this many waiting appends, new ones fail at once. */
    static final int MAX_QUEUED_APPENDS = 65_536;

    private static final System.Logger LOG = System.getLogger(GroupCommitWriter.class.getName());

    /** The timestamp of an append that takes the time of its batch. */
    static final long BATCH_TIME = Long.MIN_VALUE;

    /**
     * One accepted append; {@code tenantPrefix} and {@code name} are encoded on the caller's thread. {@code timestamp}
     * is kept (an import) unless it is {@link #BATCH_TIME}.
     */
    record PendingAppend(String tenant, String name, byte[] data, byte[] tenantPrefix, byte[] nameBytes,
                         long timestamp, CompletableFuture<Event> result) {
    }

    /** Queued by {@link #close()} after the last accepted append; the writer stops when it reaches it. */
    private static final PendingAppend STOP = new PendingAppend("", "", new byte[0], new byte[0], new byte[0],
            BATCH_TIME, new CompletableFuture<>());

    private final BlockingQueue<PendingAppend> queue = new LinkedBlockingQueue<>();
    private final RecoveringDatabase database;
    private final BatchCommitter committer;
    private final LocalFeed.Events feed;
    private final BooleanSupplier storageOpen;
    private final LongSupplier clock;
    private final Thread thread;

    /** Guards admission, so that no append can be queued behind {@link #STOP}. */
    private final Object admissionLock = new Object();
    private boolean accepting = true; // guarded by admissionLock

    /** Owned by the writer thread. */
    /** The last id issued; written only by the writer thread, volatile so that readers may ask for it. */
    private volatile long lastId;

    // Written only by the writer thread; volatile so that stats() may read them from anywhere.
    private volatile long commits;
    private volatile long appends;
    private volatile long failedAppends;
    private volatile int largestBatch;
    private volatile CommitObserver observer = CommitObserver.NONE;

    /** {@code clock} gives the timestamps of the batches, in Unix milliseconds. */
    GroupCommitWriter(RecoveringDatabase database, BatchCommitter committer, LocalFeed.Events feed, long lastId,
                      BooleanSupplier storageOpen, LongSupplier clock) {
        this.database = database;
        this.committer = committer;
        this.feed = feed;
        this.lastId = lastId;
        this.storageOpen = storageOpen;
        this.clock = clock;
        this.thread = new Thread(this::run, THREAD_NAME);
        thread.setDaemon(false); // close() ends it; queued appends must not die with the JVM's last user thread
    }

    void start() {
        thread.start();
    }

    /** Queues the append; fails it at once when the writer is closed or overloaded. */
    CompletableFuture<Event> submit(String tenant, String name, byte[] data, byte[] tenantPrefix, byte[] nameBytes,
                                    long timestamp) {
        CompletableFuture<Event> result = new CompletableFuture<>();
        synchronized (admissionLock) {
            // The storage flag turns false just before close() reaches this lock: once isOpen() is false, no
            // append is accepted.
            if (!accepting || !storageOpen.getAsBoolean()) {
                result.completeExceptionally(StorageExecutor.closed("append"));
            } else if (queue.size() >= MAX_QUEUED_APPENDS) {
                result.completeExceptionally(new StorageOverloadedException(
                        "append: more than " + MAX_QUEUED_APPENDS + " appends are waiting to be written"));
            } else {
                queue.add(new PendingAppend(tenant, name, data, tenantPrefix, nameBytes, timestamp, result));
            }
        }
        return result;
    }

    /**
     * Stops accepting appends, lets the writer make everything already queued durable, and waits for the writer
     * thread to end. Returns false when it did not end within the timeout. Idempotent.
     */
    boolean close(Duration timeout) {
        synchronized (admissionLock) {
            if (accepting) {
                accepting = false;
                queue.add(STOP);
            }
        }
        return joinUninterruptibly(timeout);
    }

    long lastIssuedId() {
        return lastId;
    }

    void observeCommits(CommitObserver commitObserver) {
        this.observer = commitObserver;
    }

    CommitStats stats() {
        return new CommitStats(commits, appends, failedAppends, largestBatch);
    }

    private void run() {
        List<PendingAppend> batch = new ArrayList<>(MAX_BATCH);
        try {
            boolean stopping = false;
            while (!stopping) {
                batch.clear();
                batch.add(takeUninterruptibly());
                queue.drainTo(batch, MAX_BATCH - 1);
                // Nothing is admitted after STOP, so when drained it is the last element.
                if (batch.get(batch.size() - 1) == STOP) {
                    batch.remove(batch.size() - 1);
                    stopping = true;
                }
                if (!batch.isEmpty()) {
                    commit(batch);
                }
            }
        } finally {
            // Normally the queue is empty here. If the thread dies of an Error, no future may be left hanging.
            synchronized (admissionLock) {
                accepting = false;
            }
            StorageException stopped = new StorageException("append: storage writer stopped");
            batch.forEach(pending -> pending.result().completeExceptionally(stopped));
            queue.forEach(pending -> pending.result().completeExceptionally(stopped));
            queue.clear();
        }
    }

    private void commit(List<PendingAppend> batch) {
        long timestamp = clock.getAsLong();
        long started = System.nanoTime();
        List<Event> events;
        try {
            events = database.write("append events", db -> write(db, batch, timestamp));
        } catch (StorageUnavailableException e) {
            // Refused, or the write failed with an I/O error: the database has said so, once.
            fail(batch, e);
            return;
        } catch (RocksDBException | RuntimeException e) {
            LOG.log(Level.ERROR, "append events: batch of " + batch.size() + " failed", e);
            fail(batch, e instanceof StorageException storageException ? storageException
                    : new StorageException("append events: " + e.getMessage(), e));
            return;
        }
        commits++;
        appends += batch.size();
        largestBatch = Math.max(largestBatch, batch.size());
        observer.committed(batch.size(), System.nanoTime() - started);
        for (int i = 0; i < batch.size(); i++) {
            Event event = events.get(i);
            feed.publish(event);
            batch.get(i).result().complete(event);
        }
    }

    /** Assigns the ids and writes the batch; runs while the database cannot be taken away. */
    private List<Event> write(OpenDatabase db, List<PendingAppend> batch, long batchTimestamp)
            throws RocksDBException {
        List<Event> events = new ArrayList<>(batch.size());
        try (WriteBatch writeBatch = new WriteBatch()) {
            long id = lastId;
            for (PendingAppend pending : batch) {
                id++;
                long timestamp = pending.timestamp() == BATCH_TIME ? batchTimestamp : pending.timestamp();
                writeBatch.put(db.eventsColumn(), KeyCodec.eventKey(pending.tenantPrefix(), id),
                        EventCodec.eventValue(timestamp, pending.nameBytes(), pending.data()));
                // Two appends of one name in a batch: the later put, with the larger id, wins.
                writeBatch.put(db.latestColumn(), KeyCodec.latestKey(pending.tenantPrefix(), pending.nameBytes()),
                        EventCodec.latestValue(id, timestamp, pending.data()));
                events.add(new Event(id, pending.tenant(), pending.name(), timestamp, pending.data()));
            }
            // The counter travels in the same atomic batch as the events, so it is exact after a crash.
            writeBatch.put(db.metaColumn(), KeyCodec.LAST_ID_KEY, KeyCodec.longBytes(id));
            // Advance before writing: should the write fail after all reaching disk, its ids are never reused.
            lastId = id;
            committer.commit(db.db(), writeBatch);
        }
        return events;
    }

    private void fail(List<PendingAppend> batch, StorageException failure) {
        failedAppends += batch.size();
        batch.forEach(pending -> pending.result().completeExceptionally(failure));
    }

    private PendingAppend takeUninterruptibly() {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                // The thread is private to this class: an interrupt means nothing, only STOP ends the writer.
            }
        }
    }

    private boolean joinUninterruptibly(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (thread.isAlive()) {
                long remainingNanos = deadline - System.nanoTime();
                if (remainingNanos <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedJoin(thread, remainingNanos);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
