package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.CommitObserver;
import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.storage.StorageException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;

/**
 * The event log: appends go to the {@link GroupCommitWriter}, reads run on the reader pool. The byte layouts are in
 * {@link KeyCodec} and {@link EventCodec}.
 */
public final class RocksEventLog implements EventLog {

    /** Caps the up-front allocation of {@code after}, whatever limit the caller passes. */
    private static final int MAX_INITIAL_CAPACITY = 256;

    private final RecoveringDatabase database;
    private final ReadOptions readOptions;
    private final GroupCommitWriter writer;
    private final StorageExecutor readers;

    RocksEventLog(RecoveringDatabase database, ReadOptions readOptions, GroupCommitWriter writer,
                  StorageExecutor readers) {
        this.database = database;
        this.readOptions = readOptions;
        this.writer = writer;
        this.readers = readers;
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code data} is stored and handed to the feed as is, not copied: it must not be modified after the call.
     */
    @Override
    public CompletableFuture<Event> append(String tenant, String name, byte[] data) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        byte[] tenantPrefix;
        try {
            tenantPrefix = KeyCodec.tenantPrefix(tenant);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new StorageException("append: " + e.getMessage(), e));
        }
        return writer.submit(tenant, name, data, tenantPrefix, name.getBytes(UTF_8));
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
