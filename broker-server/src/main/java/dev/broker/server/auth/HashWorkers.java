package dev.broker.server.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The {@code broker-hash} threads, which run Argon2 and nothing else, and the two bounded {@linkplain HashLane lanes}
 * that checks wait in. A check that finds its lane full is not queued: its future fails at once with
 * {@link HashingBusyException}, so that a flood of password guesses turns into quick 503s instead of a queue that
 * makes every login wait behind it. Futures complete on the hashing threads.
 */
public final class HashWorkers {

    private final ThreadPoolExecutor pool;
    private final int maxWaiting;
    private final AtomicInteger[] waiting = {new AtomicInteger(), new AtomicInteger()};
    /** Orders checks of one lane oldest first. */
    private final AtomicLong sequence = new AtomicLong();

    /**
     * @param threads    hashing threads
     * @param maxWaiting checks that may wait in each lane
     */
    public HashWorkers(int threads, int maxWaiting) {
        if (threads < 1 || maxWaiting < 1) {
            throw new IllegalArgumentException("threads " + threads + ", waiting " + maxWaiting);
        }
        this.maxWaiting = maxWaiting;
        AtomicInteger named = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new PriorityBlockingQueue<>(),
                body -> {
                    Thread thread = new Thread(body, "broker-hash-" + named.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.prestartAllCoreThreads();
    }

    /** Runs {@code work} on a hashing thread once its turn in {@code lane} comes, or fails at once when it is full. */
    public <T> CompletableFuture<T> submit(HashLane lane, Supplier<T> work) {
        AtomicInteger queued = waiting[lane.ordinal()];
        if (queued.incrementAndGet() > maxWaiting) {
            queued.decrementAndGet();
            return CompletableFuture.failedFuture(new HashingBusyException());
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            pool.execute(new Check(lane, sequence.getAndIncrement(), () -> {
                queued.decrementAndGet();
                try {
                    result.complete(work.get());
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            }, () -> {
                queued.decrementAndGet();
                result.completeExceptionally(new HashingBusyException());
            }));
        } catch (RejectedExecutionException shutDown) {
            queued.decrementAndGet();
            result.completeExceptionally(new HashingBusyException());
        }
        return result;
    }

    /** Checks waiting in {@code lane} now. */
    public int waiting(HashLane lane) {
        return waiting[lane.ordinal()].get();
    }

    /**
     * Takes no more checks and fails those still waiting ({@link HashingBusyException}, so that their requests are
     * answered while the event loops still run); the checks running finish.
     */
    public void shutdown() {
        pool.shutdown();
        List<Runnable> waiting = new ArrayList<>();
        pool.getQueue().drainTo(waiting);
        for (Runnable check : waiting) {
            ((Check) check).refuse().run();
        }
    }

    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return pool.awaitTermination(timeout, unit);
    }

    /** A queued check: the first lane before the second, the older before the newer. */
    private record Check(HashLane lane, long sequence, Runnable body, Runnable refuse)
            implements Runnable, Comparable<Check> {

        @Override
        public void run() {
            body.run();
        }

        @Override
        public int compareTo(Check other) {
            int byLane = Integer.compare(lane.ordinal(), other.lane.ordinal());
            return byLane != 0 ? byLane : Long.compare(sequence, other.sequence);
        }
    }
}
