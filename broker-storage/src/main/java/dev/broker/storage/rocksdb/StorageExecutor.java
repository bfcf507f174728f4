package dev.broker.storage.rocksdb;

import dev.broker.storage.StorageException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.rocksdb.RocksDBException;

/**
 * A named pool of storage threads that runs RocksDB calls and turns every outcome into a future: a result, or a
 * {@link StorageException} whose message names the operation.
 */
final class StorageExecutor {

    /** A RocksDB call, allowed to throw the checked {@link RocksDBException}. */
    @FunctionalInterface
    interface RocksCall<T> {
        T call() throws RocksDBException;
    }

    private final ExecutorService executor;
    private final BooleanSupplier storageOpen;

    private StorageExecutor(ExecutorService executor, BooleanSupplier storageOpen) {
        this.executor = executor;
        this.storageOpen = storageOpen;
    }

    /** Threads named {@code namePrefix + N}, N from 1. */
    static StorageExecutor pool(String namePrefix, int threads, BooleanSupplier storageOpen) {
        AtomicInteger counter = new AtomicInteger();
        ThreadFactory factory = runnable -> storageThread(runnable, namePrefix + counter.incrementAndGet());
        return new StorageExecutor(Executors.newFixedThreadPool(threads, factory), storageOpen);
    }

    /** One thread, so tasks run one at a time in submission order. */
    static StorageExecutor singleThread(String name, BooleanSupplier storageOpen) {
        return new StorageExecutor(Executors.newSingleThreadExecutor(runnable -> storageThread(runnable, name)),
                storageOpen);
    }

    private static Thread storageThread(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(false); // explicit rather than inherited from whoever opened the store; close() ends it
        return thread;
    }

    static StorageException closed(String operation) {
        return new StorageException(operation + ": storage is closed");
    }

    <T> CompletableFuture<T> run(String operation, RocksCall<T> call) {
        if (!storageOpen.getAsBoolean()) {
            return CompletableFuture.failedFuture(closed(operation));
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    result.complete(call.call());
                } catch (RocksDBException e) {
                    result.completeExceptionally(new StorageException(operation + ": " + e.getMessage(), e));
                } catch (StorageException e) {
                    result.completeExceptionally(e);
                } catch (RuntimeException e) {
                    // e.g. a record that does not decode: still a storage failure of this operation
                    String reason = e.getMessage() != null ? e.getMessage() : e.toString();
                    result.completeExceptionally(new StorageException(operation + ": " + reason, e));
                } catch (Error e) {
                    // Out of memory, say: the caller hears of it instead of waiting forever; the thread dies of it
                    // as it would have (the pool starts another).
                    result.completeExceptionally(new StorageException(operation + ": " + e, e));
                    throw e;
                }
            });
        } catch (RejectedExecutionException e) {
            // close() shut the executor down between the open check and here
            result.completeExceptionally(closed(operation));
        }
        return result;
    }

    /** Runs what is already queued, refuses new tasks, and waits; false when the threads did not end in time. */
    boolean shutdownAndAwait(Duration timeout) {
        executor.shutdown();
        return awaitUninterruptibly(timeout);
    }

    private boolean awaitUninterruptibly(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return executor.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    // Closing RocksDB under a running task would crash the JVM, so keep waiting.
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
