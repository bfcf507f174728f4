package dev.broker.storage.rocksdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Removes the events older than the retention period from the {@code events} column family, tenant by tenant,
 * keeping the latest event of every name. The {@code latest} column family is never touched, so a snapshot loses
 * nothing.
 *
 * <p>Why range deletes and not a compaction filter: rocksdbjni runs no compaction filter written in Java, and a
 * tenant's old events are contiguous keys ({@code [tenant][id]}, ids in time order), so a few range tombstones
 * remove any number of them in one small write that does not stall the appends; compaction then drops the covered
 * data and reclaims the disk. Per tenant a pass:
 * <ol>
 *   <li>finds the cut-off, the first id whose event is not older than the retention, by a binary search with seeks
 *       (timestamps grow with ids), starting where the previous pass stopped;</li>
 *   <li>collects the ids of the tenant's latest events below the cut-off, from {@code latest};</li>
 *   <li>deletes the ranges between them from where the previous pass stopped up to the cut-off, and, below that,
 *       the events kept last time as latest that a newer event of their name has since replaced;</li>
 *   <li>records, in the same write as the first deletions, the tenant's <em>retained-from</em> id (one above the
 *       largest id it removed) and the cut-off, under the {@code meta} key {@code "retained/" + tenant}.</li>
 * </ol>
 * Appends run on meanwhile: their ids are above every id a pass can delete, and an event that is latest when the
 * pass reads {@code latest} stays so or is replaced by a newer one, so no latest event is ever deleted.
 */
final class Retention {

    static final String THREAD_NAME = "broker-storage-retention";
    /** Bounds the operations of one write batch; a tenant with more is trimmed in several writes. */
    static final int MAX_BATCH_OPERATIONS = 10_000;

    /**
     * How far retention has trimmed a tenant's log: no event at or above {@code retainedFrom} was removed, and the
     * pass has dealt with every id below {@code trimmedTo}.
     */
    record Trimmed(long retainedFrom, long trimmedTo) {
        static final Trimmed NONE = new Trimmed(0, 0);

        byte[] encode() {
            byte[] value = new byte[2 * Long.BYTES];
            System.arraycopy(KeyCodec.longBytes(retainedFrom), 0, value, 0, Long.BYTES);
            System.arraycopy(KeyCodec.longBytes(trimmedTo), 0, value, Long.BYTES, Long.BYTES);
            return value;
        }

        static Trimmed decode(byte[] value) {
            if (value == null) {
                return NONE;
            }
            if (value.length != 2 * Long.BYTES) {
                throw new IllegalStateException("corrupt retention record of " + value.length + " bytes");
            }
            return new Trimmed(KeyCodec.getLong(value, 0), KeyCodec.getLong(value, Long.BYTES));
        }
    }

    /** What a pass will do to one tenant: ranges {@code [from, to)} and single ids to delete, and the new record. */
    private record Plan(byte[] tenantPrefix, Trimmed before, Trimmed after, List<long[]> ranges, long[] ids) {
    }

    private final RecoveringDatabase database;
    private final ReadOptions readOptions;
    private final WriteOptions writeOptions;
    private final LongSupplier clock;
    private final long retentionMillis;
    private final LongSupplier lastIssuedId;
    private final BooleanSupplier storageOpen;
    /** Whether any tenant was ever trimmed: until then readers need not look for the records. */
    private volatile boolean anyTrimmed;

    Retention(RecoveringDatabase database, ReadOptions readOptions, WriteOptions writeOptions, LongSupplier clock,
              long retentionMillis, LongSupplier lastIssuedId, BooleanSupplier storageOpen) {
        this.database = database;
        this.readOptions = readOptions;
        this.writeOptions = writeOptions;
        this.clock = clock;
        this.retentionMillis = retentionMillis;
        this.lastIssuedId = lastIssuedId;
        this.storageOpen = storageOpen;
    }

    /** Reads whether an earlier run trimmed anything (at open). */
    void load() throws RocksDBException {
        anyTrimmed = database.read("open", db -> {
            try (RocksIterator iterator = db.db().newIterator(db.metaColumn(), readOptions)) {
                iterator.seek(KeyCodec.RETAINED_KEY_PREFIX);
                boolean found = iterator.isValid() && KeyCodec.hasPrefix(iterator.key(), KeyCodec.RETAINED_KEY_PREFIX);
                iterator.status();
                return found;
            }
        });
    }

    boolean anyTrimmed() {
        return anyTrimmed;
    }

    /** The tenant's record as stored in {@code db}. */
    Trimmed read(OpenDatabase db, byte[] tenantPrefix) throws RocksDBException {
        if (!anyTrimmed) {
            return Trimmed.NONE;
        }
        return Trimmed.decode(db.db().get(db.metaColumn(), readOptions, KeyCodec.retainedKey(tenantPrefix)));
    }

    /** One pass over every tenant; returns how many tenants it trimmed. Does nothing while retention is off. */
    int trimAll() throws RocksDBException {
        if (retentionMillis <= 0) {
            return 0;
        }
        long threshold = clock.getAsLong() - retentionMillis;
        int trimmed = 0;
        byte[] tenant = null;
        // Stops between tenants once the store closes, so that closing does not wait for a whole pass.
        while (storageOpen.getAsBoolean() && (tenant = nextTenant(tenant)) != null) {
            byte[] current = tenant;
            Plan plan = database.read("retention", db -> plan(db, current, threshold));
            if (plan != null) {
                apply(plan);
                trimmed++;
            }
        }
        return trimmed;
    }

    /** The tenant after {@code previous} (null for the first) that has events, or null. */
    private byte[] nextTenant(byte[] previous) throws RocksDBException {
        return database.read("retention", db -> {
            try (RocksIterator iterator = db.db().newIterator(db.eventsColumn(), readOptions)) {
                if (previous == null) {
                    iterator.seekToFirst();
                } else {
                    iterator.seek(KeyCodec.afterTenant(previous));
                }
                byte[] next = iterator.isValid() ? KeyCodec.tenantPrefixOfEventKey(iterator.key()) : null;
                iterator.status();
                return next;
            }
        });
    }

    private Plan plan(OpenDatabase db, byte[] prefix, long threshold) throws RocksDBException {
        Trimmed before = read(db, prefix);
        try (RocksIterator events = db.db().newIterator(db.eventsColumn(), readOptions)) {
            byte[] head = new byte[Long.BYTES];
            long start = Math.max(before.trimmedTo(), 1);
            long[] first = firstAtOrAfter(events, prefix, start, head);
            if (first == null || first[1] >= threshold) {
                return null; // nothing of the tenant expired since the last pass
            }
            // Every event below lo is expired; the cut-off is in [lo, hi].
            long lo = first[0] + 1;
            long hi = Math.max(lo, lastIssuedId.getAsLong() + 1);
            while (lo < hi) {
                long mid = lo + (hi - lo) / 2;
                long[] event = firstAtOrAfter(events, prefix, mid, head);
                if (event == null || event[1] >= threshold) {
                    hi = mid;
                } else {
                    lo = event[0] + 1;
                }
            }
            long cutOff = lo;
            long[] latest = latestIdsBelow(db, prefix, cutOff);
            List<long[]> ranges = new ArrayList<>();
            long from = Math.max(before.trimmedTo(), 1);
            for (long id : latest) {
                if (id >= from) {
                    if (id > from) {
                        ranges.add(new long[] {from, id});
                    }
                    from = id + 1;
                }
            }
            if (cutOff > from) {
                ranges.add(new long[] {from, cutOff});
            }
            long largestRemoved = largestNotLatest(events, prefix, before.trimmedTo(), cutOff - 1, latest);
            long[] replaced = replacedBelow(events, prefix, before.trimmedTo(), latest);
            if (replaced.length > 0) {
                largestRemoved = Math.max(largestRemoved, replaced[replaced.length - 1]);
            }
            events.status();
            long retainedFrom = largestRemoved > 0 ? Math.max(before.retainedFrom(), largestRemoved + 1)
                    : before.retainedFrom();
            Trimmed after = new Trimmed(retainedFrom, cutOff);
            return new Plan(prefix, before, after, ranges, replaced);
        }
    }

    /** {id, timestamp} of the tenant's first event at or above {@code id}, or null. */
    private static long[] firstAtOrAfter(RocksIterator events, byte[] prefix, long id, byte[] head) {
        events.seek(KeyCodec.eventKey(prefix, id));
        if (!events.isValid() || !KeyCodec.hasPrefix(events.key(), prefix)) {
            return null;
        }
        events.value(head); // only the timestamp, not the data
        return new long[] {KeyCodec.idOfEventKey(events.key()), KeyCodec.getLong(head, 0)};
    }

    /** The ids below {@code cutOff} of the tenant's latest events, ascending; only the ids are read. */
    private long[] latestIdsBelow(OpenDatabase db, byte[] prefix, long cutOff) throws RocksDBException {
        long[] ids = new long[16];
        int count = 0;
        byte[] head = new byte[Long.BYTES];
        try (RocksIterator iterator = db.db().newIterator(db.latestColumn(), readOptions)) {
            for (iterator.seek(prefix); iterator.isValid(); iterator.next()) {
                if (!KeyCodec.hasPrefix(iterator.key(), prefix)) {
                    break;
                }
                iterator.value(head);
                long id = KeyCodec.getLong(head, 0);
                if (id < cutOff) {
                    if (count == ids.length) {
                        ids = Arrays.copyOf(ids, count * 2);
                    }
                    ids[count++] = id;
                }
            }
            iterator.status();
        }
        long[] sorted = Arrays.copyOf(ids, count);
        Arrays.sort(sorted);
        return sorted;
    }

    /** The largest id in {@code [from, to]} of an event that is not a latest one, or 0: walks down from {@code to}. */
    private static long largestNotLatest(RocksIterator events, byte[] prefix, long from, long to, long[] latest) {
        if (to < from) {
            return 0;
        }
        for (events.seekForPrev(KeyCodec.eventKey(prefix, to)); events.isValid(); events.prev()) {
            byte[] key = events.key();
            if (!KeyCodec.hasPrefix(key, prefix)) {
                return 0;
            }
            long id = KeyCodec.idOfEventKey(key);
            if (id < from) {
                return 0;
            }
            if (Arrays.binarySearch(latest, id) < 0) {
                return id;
            }
        }
        return 0;
    }

    /** The ids below {@code below} still stored (kept as latest by earlier passes) that are no longer latest. */
    private static long[] replacedBelow(RocksIterator events, byte[] prefix, long below, long[] latest) {
        List<Long> replaced = new ArrayList<>();
        for (events.seek(prefix); events.isValid(); events.next()) {
            byte[] key = events.key();
            if (!KeyCodec.hasPrefix(key, prefix)) {
                break;
            }
            long id = KeyCodec.idOfEventKey(key);
            if (id >= below) {
                break;
            }
            if (Arrays.binarySearch(latest, id) < 0) {
                replaced.add(id);
            }
        }
        return replaced.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Writes the plan in batches of at most {@link #MAX_BATCH_OPERATIONS}. The first carries the new retained-from
     * id with its deletions, so that no reader sees a deletion before the record that announces it; the last
     * records the cut-off, so that a pass cut short is done again.
     */
    private void apply(Plan plan) throws RocksDBException {
        byte[] recordKey = KeyCodec.retainedKey(plan.tenantPrefix());
        List<byte[][]> deletions = new ArrayList<>();
        for (long id : plan.ids()) {
            deletions.add(new byte[][] {KeyCodec.eventKey(plan.tenantPrefix(), id), null});
        }
        for (long[] range : plan.ranges()) {
            deletions.add(new byte[][] {KeyCodec.eventKey(plan.tenantPrefix(), range[0]),
                    KeyCodec.eventKey(plan.tenantPrefix(), range[1])});
        }
        int next = 0;
        boolean first = true;
        do {
            int end = Math.min(deletions.size(), next + MAX_BATCH_OPERATIONS);
            boolean last = end == deletions.size();
            int from = next;
            Trimmed record = last ? plan.after() : new Trimmed(plan.after().retainedFrom(), plan.before().trimmedTo());
            boolean writeRecord = first || last;
            // Before the write: a reader that sees a deletion must also look for the record announcing it.
            anyTrimmed = true;
            database.write("retention", db -> {
                try (WriteBatch batch = new WriteBatch()) {
                    if (writeRecord) {
                        batch.put(db.metaColumn(), recordKey, record.encode());
                    }
                    for (byte[][] deletion : deletions.subList(from, end)) {
                        if (deletion[1] == null) {
                            batch.delete(db.eventsColumn(), deletion[0]);
                        } else {
                            batch.deleteRange(db.eventsColumn(), deletion[0], deletion[1]);
                        }
                    }
                    db.db().write(writeOptions, batch);
                }
                return null;
            });
            first = false;
            next = end;
        } while (next < deletions.size());
    }
}
