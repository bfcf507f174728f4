package dev.broker.server.sse;

import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The streams of one loop writing history take turns: each turn is one slice of one stream's history (up to its
 * channel's high water mark), a few turns run per task, and the next task is scheduled, so that it runs after the
 * loop's next I/O pass (a plain task would run in the same batch). A storm of streams writing large snapshots thus
 * costs the loop's other connections a few slices of latency, not one slice per stream. Touched only on the loop.
 */
final class HistoryTurns {

    /** Slices per task: about 2 MiB of encoding at the default high water mark, a few milliseconds. */
    static final int SLICES_PER_TASK = 8;

    private final EventLoop loop;
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private boolean scheduled;

    HistoryTurns(EventLoop loop) {
        this.loop = loop;
    }

    /** Runs {@code slice} in a later task, after the turns queued before it. */
    void take(Runnable slice) {
        waiting.add(slice);
        if (!scheduled) {
            schedule();
        }
    }

    private void run() {
        scheduled = false;
        Runnable slice;
        for (int i = 0; i < SLICES_PER_TASK && (slice = waiting.poll()) != null; i++) {
            slice.run();
        }
        if (!waiting.isEmpty() && !scheduled) {
            schedule();
        }
    }

    private void schedule() {
        scheduled = true;
        try {
            loop.schedule(this::run, 0, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // The streams are being closed with the loop.
            waiting.clear();
        }
    }
}
