package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.CommitObserver;
import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.storage.HistoryTrimmedException;
import dev.broker.storage.StorageException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * The event log: appends go to the {@link GroupCommitWriter}, reads run on the reader pool. The byte layouts are in
 * {@link KeyCodec} and {@link EventCodec}.
 */
public final class RocksEventLog implements EventLog {

    /** Caps the up-front allocation of {@code after}, whatever limit the caller passes. */
    private static final int MAX_INITIAL_CAPACITY = 256;
    /** Tenants a {@link #scan} page steps through with iterators of their own; beyond, it seeks per event. */
    static final int SCAN_ITERATORS = 256;

    private final RecoveringDatabase database;
    private final ReadOptions readOptions;
    private final GroupCommitWriter writer;
    private final StorageExecutor readers;
    private final Retention retention;

    RocksEventLog(RecoveringDatabase database, ReadOptions readOptions, GroupCommitWriter writer,
                  StorageExecutor readers, Retention retention) {
        this.database = database;
        this.readOptions = readOptions;
        this.writer = writer;
        this.readers = readers;
        this.retention = retention;
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code data} is stored and handed to the feed as is, not copied: it must not be modified after the call.
     */
    @Override
    public CompletableFuture<Event> append(String tenant, String name, byte[] data) {
        return submit(tenant, name, data, GroupCommitWriter.BATCH_TIME);
    }

    /** {@inheritDoc} Kept as given: the caller keeps the timestamps in id order. */
    @Override
    public CompletableFuture<Event> appendAt(String tenant, String name, byte[] data, long timestamp) {
        if (timestamp == GroupCommitWriter.BATCH_TIME) {
            throw new IllegalArgumentException("timestamp out of range: " + timestamp);
        }
        return submit(tenant, name, data, timestamp);
    }

    private CompletableFuture<Event> submit(String tenant, String name, byte[] data, long timestamp) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        byte[] tenantPrefix;
        try {
            tenantPrefix = KeyCodec.tenantPrefix(tenant);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new StorageException("append: " + e.getMessage(), e));
        }
        return writer.submit(tenant, name, data, tenantPrefix, name.getBytes(UTF_8), timestamp);
    }

    @Override
    public CompletableFuture<List<Event>> latest(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        return readers.run("latest", () -> database.read("latest", db -> {
            byte[] prefix = KeyCodec.tenantPrefix(tenant);
            List<Event> events = new ArrayList<>();
            try (RocksIterator iterator = db.db().newIterator(db.latestColumn(), readOptions)) {
                for (iterator.seek(prefix); iterator.isValid(); iterator.next()) {
                    byte[] key = iterator.key();
                    if (!KeyCodec.hasPrefix(key, prefix)) {
                        break;
                    }
                    String name = KeyCodec.nameOfLatestKey(key, prefix.length);
                    events.add(EventCodec.decodeLatest(tenant, name, iterator.value()));
                }
                // An I/O error ends the scan like the end of data does; status() tells them apart.
                iterator.status();
            }
            // Stored by name; the contract wants id order.
            events.sort(Comparator.comparingLong(Event::id));
            return events;
        }));
    }

    /** Keeps decoded events only while within the bounds; past them, counts the rest from the raw entries. */
    @Override
    public CompletableFuture<Latest> latest(String tenant, int maxNames, long maxBytes) {
        Objects.requireNonNull(tenant, "tenant");
        return readers.run("latest", () -> database.read("latest", db -> {
            byte[] prefix = KeyCodec.tenantPrefix(tenant);
            List<Event> events = new ArrayList<>();
            int names = 0;
            long bytes = 0;
            try (RocksIterator iterator = db.db().newIterator(db.latestColumn(), readOptions)) {
                for (iterator.seek(prefix); iterator.isValid(); iterator.next()) {
                    byte[] key = iterator.key();
                    if (!KeyCodec.hasPrefix(key, prefix)) {
                        break;
                    }
                    byte[] value = iterator.value();
                    names++;
                    bytes += key.length - prefix.length + value.length - EventCodec.LATEST_HEADER_BYTES;
                    if (events != null && (names > maxNames || bytes > maxBytes)) {
                        events = null; // over: from here on only counted
                    }
                    if (events != null) {
                        String name = KeyCodec.nameOfLatestKey(key, prefix.length);
                        events.add(EventCodec.decodeLatest(tenant, name, value));
                    }
                }
                iterator.status();
            }
            if (events != null) {
                events.sort(Comparator.comparingLong(Event::id));
            }
            return new Latest(events, names, bytes);
        }));
    }

    @Override
    public CompletableFuture<List<Event>> after(String tenant, long afterId, int limit, long maxDataBytes) {
        Objects.requireNonNull(tenant, "tenant");
        return readers.run("after", () -> database.read("after", db -> {
            byte[] prefix = KeyCodec.tenantPrefix(tenant);
            if (limit <= 0 || afterId == Long.MAX_VALUE) {
                return new ArrayList<>();
            }
            // Ids start at 1; a negative afterId must not become a huge unsigned key.
            long firstId = Math.max(afterId, 0) + 1;
            List<Event> events = new ArrayList<>(Math.min(limit, MAX_INITIAL_CAPACITY));
            long dataBytes = 0;
            try (RocksIterator iterator = db.db().newIterator(db.eventsColumn(), readOptions)) {
                // The record is read after the iterator is created, and retention only raises it: if the range
                // is complete as of the record, it is complete in the iterator's older view too.
                long retainedFrom = retention.read(db, prefix).retainedFrom();
                if (firstId < retainedFrom) {
                    throw new HistoryTrimmedException("after: retention removed events of the tenant below id "
                            + retainedFrom + "; start from the snapshot");
                }
                // The event that reaches the data bound is the last: at least one, and at most one past it.
                for (iterator.seek(KeyCodec.eventKey(prefix, firstId));
                     iterator.isValid() && events.size() < limit && (dataBytes < maxDataBytes || events.isEmpty());
                     iterator.next()) {
                    byte[] key = iterator.key();
                    if (!KeyCodec.hasPrefix(key, prefix)) {
                        break;
                    }
                    Event event = EventCodec.decodeEvent(tenant, KeyCodec.idOfEventKey(key), iterator.value());
                    events.add(event);
                    dataBytes += event.data().length;
                }
                iterator.status();
            }
            return events;
        }));
    }

    /** {@inheritDoc} Read from the tenant's retention record, once retention has trimmed anything. */
    @Override
    public CompletableFuture<Long> retainedFrom(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        if (!retention.anyTrimmed()) {
            return CompletableFuture.completedFuture(0L);
        }
        return readers.run("retained from", () -> database.read("retained from",
                db -> retention.read(db, KeyCodec.tenantPrefix(tenant)).retainedFrom()));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Merges the tenants' logs, stored tenant by tenant, in one snapshot of the database: every page seeks once
     * into each tenant with events after {@code afterId}; the first {@value #SCAN_ITERATORS} of them then get an
     * iterator of their own that steps through their events, the others one seek per event. Meant for exports,
     * not for serving.
     */
    @Override
    public CompletableFuture<List<Event>> scan(long afterId, int limit, long maxDataBytes) {
        return readers.run("scan", () -> database.read("scan", db -> {
            List<Event> events = new ArrayList<>(Math.min(Math.max(limit, 0), MAX_INITIAL_CAPACITY));
            if (limit <= 0 || afterId == Long.MAX_VALUE) {
                return events;
            }
            long firstId = Math.max(afterId, 0) + 1;
            Snapshot snapshot = db.db().getSnapshot();
            List<RocksIterator> own = new ArrayList<>();
            try (ReadOptions atSnapshot = new ReadOptions().setSnapshot(snapshot);
                 RocksIterator shared = db.db().newIterator(db.eventsColumn(), atSnapshot)) {
                PriorityQueue<ScanCursor> next = new PriorityQueue<>(Comparator.comparingLong(ScanCursor::id));
                for (shared.seekToFirst(); shared.isValid(); shared.seek(KeyCodec.afterTenant(
                        KeyCodec.tenantPrefixOfEventKey(shared.key())))) {
                    byte[] prefix = KeyCodec.tenantPrefixOfEventKey(shared.key());
                    byte[] firstKey = KeyCodec.eventKey(prefix, firstId);
                    shared.seek(firstKey);
                    if (!shared.isValid()) {
                        break;
                    }
                    if (!KeyCodec.hasPrefix(shared.key(), prefix)) {
                        shared.seek(prefix); // so that the loop moves on from this tenant
                        continue;
                    }
                    RocksIterator iterator = null;
                    if (own.size() < SCAN_ITERATORS) {
                        iterator = db.db().newIterator(db.eventsColumn(), atSnapshot);
                        own.add(iterator);
                        iterator.seek(firstKey);
                    }
                    next.add(new ScanCursor(prefix, KeyCodec.tenantOfPrefix(prefix),
                            KeyCodec.idOfEventKey(shared.key()), iterator));
                }
                shared.status();
                long dataBytes = 0;
                while (!next.isEmpty() && events.size() < limit && (dataBytes < maxDataBytes || events.isEmpty())) {
                    ScanCursor cursor = next.poll();
                    RocksIterator iterator = cursor.iterator() != null ? cursor.iterator() : shared;
                    if (cursor.iterator() == null) {
                        shared.seek(KeyCodec.eventKey(cursor.prefix(), cursor.id()));
                    }
                    Event event = EventCodec.decodeEvent(cursor.tenant(), cursor.id(), iterator.value());
                    events.add(event);
                    dataBytes += event.data().length;
                    iterator.next();
                    if (iterator.isValid() && KeyCodec.hasPrefix(iterator.key(), cursor.prefix())) {
                        next.add(new ScanCursor(cursor.prefix(), cursor.tenant(), KeyCodec.idOfEventKey(iterator.key()),
                                cursor.iterator()));
                    } else {
                        iterator.status();
                    }
                }
            } finally {
                own.forEach(RocksIterator::close);
                db.db().releaseSnapshot(snapshot);
            }
            return events;
        }));
    }

    /** A tenant's next event in a {@link #scan}, and its own iterator, positioned there (or null: seek). */
    private record ScanCursor(byte[] prefix, String tenant, long id, RocksIterator iterator) {
    }

    @Override
    public CompletableFuture<Long> lastIssuedId() {
        return CompletableFuture.completedFuture(writer.lastIssuedId());
    }

    /** Group-commit counters, e.g. to check that concurrent appends shared writes. */
    void observeCommits(CommitObserver observer) {
        writer.observeCommits(observer);
    }

    public CommitStats commitStats() {
        return writer.stats();
    }
}
