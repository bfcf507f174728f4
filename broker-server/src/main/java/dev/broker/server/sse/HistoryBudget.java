package dev.broker.server.sse;

import dev.broker.storage.Event;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The bytes of history that store reads may hold across the whole server: one budget, created by {@link SseHub} and
 * shared by every loop's {@link LoopHistory}. A loop asks for room before it issues a snapshot or replay read, with
 * an estimate of what the read will hold; once the read is done the grant is set to what the events take on the heap
 * ({@link #heapBytes}), and it is given back when the last stream writing them is done or gone. A read is granted at
 * once while the budget has room, else it waits in one FIFO and is granted, on its loop, as bytes come back; the
 * only exception is an idle budget, which grants whatever is asked, so that a read larger than the whole budget
 * still runs, alone.
 *
 * <p>Thread-safe: loops ask and give back under one small lock, and a grant that had to wait is handed to its loop as
 * a task.
 */
final class HistoryBudget {

    /**
     * What a decoded event costs on the heap besides its data and name, on a 64-bit JVM with compressed pointers:
     * the {@link Event} (40 bytes), the name's String and its array (24 + 16), the data array's header (16) and a
     * list slot (4), rounded up.
     */
    static final int EVENT_OVERHEAD = 100;

    /** The estimated heap footprint of {@code events} events whose names and data take {@code bytes}. */
    static long heapBytes(int events, long bytes) {
        return bytes + (long) events * EVENT_OVERHEAD;
    }

    /** The events' estimated heap footprint, the unit of the budget. */
    static long heapBytes(List<Event> events) {
        long bytes = 0;
        for (Event event : events) {
            bytes += event.data().length + event.name().length() + EVENT_OVERHEAD;
        }
        return bytes;
    }

    /** A claim on the budget: waiting, then granted, then given back (once). */
    final class Grant {
        private final Executor loop;
        private final Consumer<Grant> onGranted;
        private long bytes;
        private boolean granted;
        private boolean done;

        private Grant(long bytes, Executor loop, Consumer<Grant> onGranted) {
            this.bytes = bytes;
            this.loop = loop;
            this.onGranted = onGranted;
        }

        /** The read is done: from now on the grant counts what it really holds, which may be more or less. */
        void resize(long actualBytes) {
            boolean freed;
            synchronized (HistoryBudget.this) {
                if (done || !granted) {
                    return;
                }
                freed = actualBytes < bytes;
                used += actualBytes - bytes;
                bytes = actualBytes;
            }
            if (freed) {
                grantWaiting();
            }
        }

        /** Gives the bytes back, or leaves the queue if still waiting (then it is never granted). Idempotent. */
        void release() {
            synchronized (HistoryBudget.this) {
                if (done) {
                    return;
                }
                done = true;
                if (!granted) {
                    waiting.remove(this);
                    return;
                }
                used -= bytes;
            }
            grantWaiting();
        }
    }

    private final long limit;
    /** Bytes granted and not given back. Guarded by this. */
    private long used;
    /** Grants waiting for room, oldest first. Guarded by this. */
    private final ArrayDeque<Grant> waiting = new ArrayDeque<>();

    HistoryBudget(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("history budget " + limit);
        }
        this.limit = limit;
    }

    /**
     * Asks for {@code bytes}. Granted at once (then {@code onGranted} has run when this returns, on the caller's
     * thread) if nothing waits and the budget has room or is idle; otherwise {@code onGranted} runs on {@code loop}
     * once granted (a grant released while waiting never is; one released while its task was on the way still runs
     * it, and releasing it again does nothing). Call it on {@code loop}.
     */
    Grant request(long bytes, Executor loop, Consumer<Grant> onGranted) {
        Grant grant = new Grant(bytes, loop, onGranted);
        boolean now;
        synchronized (this) {
            now = waiting.isEmpty() && fits(bytes);
            if (now) {
                grant.granted = true;
                used += bytes;
            } else {
                waiting.add(grant);
            }
        }
        if (now) {
            onGranted.accept(grant);
        }
        return grant;
    }

    synchronized long used() {
        return used;
    }

    synchronized int waiting() {
        return waiting.size();
    }

    long limit() {
        return limit;
    }

    private boolean fits(long bytes) {
        return used == 0 || used + bytes <= limit;
    }

    /** Grants the waiting requests that fit, oldest first (none overtakes the oldest), each on its loop. */
    private void grantWaiting() {
        while (true) {
            Grant next;
            synchronized (this) {
                next = waiting.peek();
                if (next == null || !fits(next.bytes)) {
                    return;
                }
                waiting.poll();
                next.granted = true;
                used += next.bytes;
            }
            try {
                Grant granted = next;
                next.loop.execute(() -> granted.onGranted.accept(granted));
            } catch (RejectedExecutionException loopGone) {
                next.release();
            }
        }
    }
}
