package dev.broker.server.http;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts requests between dispatch and response, so that a graceful shutdown can stop taking new ones and wait for
 * those under way (an insert that was accepted is answered, not cut off).
 *
 * <p>Each event loop counts its own channels' requests in a {@link LoopCounter} that only it changes: a request is
 * dispatched and answered on its channel's loop, so counting costs an ordered store on that loop, with no lock and no
 * contended cache line. {@link #awaitIdle} adds the loops' counts up. Each count is exact when read, so a request
 * under way all through the sum is always seen (a shared {@code LongAdder} could miss one: its {@code sum()} may take
 * in another request's end without its start when the two land in different cells).
 */
public final class InFlightRequests {

    /** How often {@link #awaitIdle} looks again; it only runs at shutdown. */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final ConcurrentMap<EventExecutor, LoopCounter> loops = new ConcurrentHashMap<>();
    private volatile boolean draining;

    /** The counter of the requests on {@code loop}'s channels; a sequencer takes it once, when it is added. */
    LoopCounter on(EventExecutor loop) {
        return loops.computeIfAbsent(loop, LoopCounter::new);
    }

    /** True once shutdown began: new requests are refused with 503. */
    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }

    /** Waits until no request is under way or the timeout passes; returns whether all finished. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (underWay() > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.sleep(Math.min(left, POLL_NANOS));
        }
        return true;
    }

    private long underWay() {
        long sum = 0;
        for (LoopCounter counter : loops.values()) {
            sum += counter.count();
        }
        return sum;
    }

    /** One event loop's requests under way. Changed on that loop only; read from anywhere. */
    static final class LoopCounter {

        private final EventExecutor loop;
        private final AtomicLong count = new AtomicLong();

        private LoopCounter(EventExecutor loop) {
            this.loop = loop;
        }

        void begin() {
            assert loop.inEventLoop() : "request counted off its event loop";
            count.lazySet(count.get() + 1); // one writer: no read-modify-write needed, only ordered publication
        }

        void end() {
            assert loop.inEventLoop() : "request counted off its event loop";
            count.lazySet(count.get() - 1);
        }

        long count() {
            return count.get();
        }
    }
}
