package dev.broker.server.sse;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The bursts of one loop on their way to their streams, oldest first. A burst for thousands of streams is written
 * {@code chunk} streams per task, with the loop's I/O in between, so that an insert or a new stream on this loop
 * is not kept waiting for the whole burst; fan-outs still leave strictly in the order they were added, so each
 * stream gets its bursts in order. Touched only on the loop.
 */
final class FanOuts {

    /** One burst (shared bytes) for the streams that were to get it when it was made. */
    private static final class FanOut {
        final ByteBuf burst;
        final SseSession[] targets;
        int next;

        FanOut(ByteBuf burst, SseSession[] targets) {
            this.burst = burst;
            this.targets = targets;
        }
    }

    private final EventLoop loop;
    private final int chunk;
    /** Run when the last waiting fan-out is written: a drain deferred meanwhile. */
    private final Runnable whenIdle;
    private final ArrayDeque<FanOut> queue = new ArrayDeque<>();
    private boolean continuationScheduled;
    private final Runnable continuation = () -> {
        if (continuationScheduled) {
            write();
        }
    };

    FanOuts(EventLoop loop, int chunk, Runnable whenIdle) {
        this.loop = loop;
        this.chunk = chunk;
        this.whenIdle = whenIdle;
    }

    /** Whether bursts are still being written. */
    boolean busy() {
        return !queue.isEmpty();
    }

    /** Queues {@code burst} (ownership taken) for {@code targets}; {@link #start} writes it. */
    void add(ByteBuf burst, SseSession[] targets) {
        if (targets.length == 0) {
            burst.release();
        } else {
            queue.add(new FanOut(burst, targets));
        }
    }

    /** Starts writing what is queued, unless a task doing so is already scheduled. */
    void start() {
        if (!continuationScheduled) {
            write();
        }
    }

    private void write() {
        continuationScheduled = false;
        int budget = chunk;
        FanOut fanOut;
        while (budget > 0 && (fanOut = queue.peek()) != null) {
            int end = Math.min(fanOut.targets.length, fanOut.next + budget);
            for (int i = fanOut.next; i < end; i++) {
                Channel channel = fanOut.targets[i].channel();
                // A stream that closed since the fan-out was made has left its tenant: skip it.
                if (channel.isActive()) {
                    channel.writeAndFlush(fanOut.burst.retainedDuplicate(), channel.voidPromise());
                }
            }
            budget -= end - fanOut.next;
            fanOut.next = end;
            if (end == fanOut.targets.length) {
                queue.poll();
                fanOut.burst.release();
            }
        }
        if (queue.isEmpty()) {
            whenIdle.run();
            return;
        }
        continuationScheduled = true;
        try {
            // Scheduled, not executed: a scheduled task runs after the loop's next I/O pass, a plain task would run
            // in this same batch of tasks.
            loop.schedule(continuation, 0, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            release();
        }
    }

    /** On the loop, or after it terminated: what was still to be written is dropped. */
    void release() {
        continuationScheduled = false;
        FanOut fanOut;
        while ((fanOut = queue.poll()) != null) {
            fanOut.burst.release();
        }
    }
}
