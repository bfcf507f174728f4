package dev.broker.server.sse;

import dev.broker.storage.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One tenant's snapshot on one event loop, as encoded frames: the latest frame of every event name, so that a new
 * stream gets the whole snapshot as one write of shared bytes instead of a store read and an encoding of its own.
 * Touched only on its loop.
 *
 * <p>It is filled by one read of the store merged with the deliveries recorded since just before the read was
 * issued, the larger id winning per name. The read sees every event the loop was handed before it was issued (the
 * store publishes an event only once it is readable), and the recording has every later one, so the merge is
 * exactly the latest event of every name up to its own largest id, {@link #lastId()}. Every later delivery keeps it
 * so. The read may be ahead of the loop's feed, so {@code lastId()} may briefly exceed what the loop was handed:
 * a stream served then waits for the feed as after a read of its own.
 *
 * <p>Bounded: a tenant with more names or bytes than the limits turns the cache off, and so does one that would
 * take its loop's caches past their {@link Budget}; its streams then read the store as before.
 */
final class SnapshotCache {


    /** The bytes held by the caches of one loop; touched only on that loop. */
    static final class Budget {
        final long limit;
        long used;

        Budget(long limit) {
            this.limit = limit;
        }
    }

    /** EMPTY: nothing recorded; FILLING: recording while the read runs; READY: current; OFF: over the limits. */
    enum State { EMPTY, FILLING, READY, OFF }

    private record Entry(long id, ByteBuf frame) {
    }

    private final Budget budget;
    private final int maxNames;
    private final int maxBytes;
    private final Map<String, Entry> latest = new HashMap<>();
    private State state = State.EMPTY;
    private long lastId;
    private int bytes;
    /** Every frame concatenated in id order, built when asked for after a change; null when stale. */
    private ByteBuf snapshot;

    SnapshotCache(Budget budget, int maxNames, int maxBytes) {
        this.budget = budget;
        this.maxNames = maxNames;
        this.maxBytes = maxBytes;
    }

    State state() {
        return state;
    }

    /** The largest id in the snapshot (0 when the tenant has no events). */
    long lastId() {
        return lastId;
    }

    /** Records the tenant's deliveries from now on; call just before issuing the read that fills the cache. */
    void startFilling() {
        assert state == State.EMPTY;
        state = State.FILLING;
    }

    /** A delivery of the tenant (the frame is not taken: a duplicate is retained when kept). */
    void record(String name, long id, ByteBuf frame) {
        if (state == State.FILLING || state == State.READY) {
            put(name, id, frame.retainedDuplicate());
        }
    }

    /** Merges the read into what was recorded meanwhile; the cache is READY unless it went off. */
    void fill(List<Event> read, ByteBufAllocator alloc) {
        if (state != State.FILLING) {
            return;
        }
        for (Event event : read) {
            Entry entry = latest.get(event.name());
            if (entry == null || entry.id < event.id()) {
                put(event.name(), event.id(), SseFrames.encode(alloc, event));
                if (state == State.OFF) {
                    return;
                }
            }
        }
        state = State.READY;
    }

    /** The whole snapshot, in ascending id order; the caller gets its own retained duplicate. */
    ByteBuf snapshot(ByteBufAllocator alloc) {
        assert state == State.READY;
        if (snapshot == null) {
            if (latest.isEmpty()) {
                snapshot = Unpooled.EMPTY_BUFFER;
            } else {
                List<Entry> entries = new ArrayList<>(latest.values());
                entries.sort(Comparator.comparingLong(Entry::id));
                snapshot = alloc.directBuffer(bytes, bytes);
                for (Entry entry : entries) {
                    snapshot.writeBytes(entry.frame, entry.frame.readerIndex(), entry.frame.readableBytes());
                }
                budget.used += snapshot.capacity();
            }
        }
        return snapshot.retainedDuplicate();
    }

    /** Forgets everything (a failed read): the next stream fills it afresh. */
    void clear() {
        releaseAll();
        state = State.EMPTY;
    }

    /** Releases every buffer for good. */
    void release() {
        releaseAll();
        state = State.OFF;
    }

    /** Takes {@code frame}; an older or equal id than the one held for the name is dropped. */
    private void put(String name, long id, ByteBuf frame) {
        Entry old = latest.get(name);
        if (old != null && old.id >= id) {
            frame.release();
            return;
        }
        latest.put(name, new Entry(id, frame));
        bytes += frame.readableBytes();
        budget.used += frame.readableBytes();
        if (old != null) {
            bytes -= old.frame.readableBytes();
            budget.used -= old.frame.readableBytes();
            old.frame.release();
        }
        lastId = Math.max(lastId, id);
        dropSnapshot();
        // Twice the frames: the joined snapshot, once a stream asks for it, holds them again.
        if (latest.size() > maxNames || bytes > maxBytes || budget.used + bytes > budget.limit) {
            release();
        }
    }

    private void dropSnapshot() {
        if (snapshot != null) {
            if (snapshot != Unpooled.EMPTY_BUFFER) {
                budget.used -= snapshot.capacity();
            }
            snapshot.release();
            snapshot = null;
        }
    }

    private void releaseAll() {
        dropSnapshot();
        for (Entry entry : latest.values()) {
            entry.frame.release();
        }
        budget.used -= bytes;
        latest.clear();
        bytes = 0;
        lastId = 0;
    }
}
