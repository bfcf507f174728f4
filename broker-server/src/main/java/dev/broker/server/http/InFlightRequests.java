package dev.broker.server.http;

import java.util.concurrent.TimeUnit;

/**
 * Counts requests between dispatch and response, so that a graceful shutdown can stop taking new ones and wait for
 * those under way (an insert that was accepted is answered, not cut off).
 */
public final class InFlightRequests {

    private int count;
    private volatile boolean draining;

    synchronized void begin() {
        count++;
    }

    synchronized void end() {
        if (--count == 0) {
            notifyAll();
        }
    }

    /** True once shutdown began: new requests are refused with 503. */
    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }

    /** Waits until no request is under way or the timeout passes; returns whether all finished. */
    public synchronized boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (count > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
