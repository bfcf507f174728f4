package dev.broker.storage.jetstream;

import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import io.nats.client.JetStreamApiException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The threads that make the client's blocking calls (key-value operations, the listing of users), so that no caller's
 * thread ever waits on NATS. A bounded queue: past it a call is refused with {@link StorageOverloadedException}.
 * Every outcome becomes a future: a result, or a {@link StorageException} that names the operation.
 */
final class BlockingCalls {

    /** A call to the NATS client. */
    @FunctionalInterface
    interface Call<T> {
        T call() throws IOException, JetStreamApiException, InterruptedException, TimeoutException;
    }

    private final ThreadPoolExecutor executor;
    private final BooleanSupplier storageOpen;

    BlockingCalls(String namePrefix, int threads, int queueCapacity, BooleanSupplier storageOpen) {
        AtomicInteger counter = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queueCapacity), runnable -> {
                    Thread thread = new Thread(runnable, namePrefix + counter.incrementAndGet());
                    thread.setDaemon(false); // close() ends them
                    return thread;
                });
        this.storageOpen = storageOpen;
    }

    <T> CompletableFuture<T> run(String operation, Call<T> call) {
        if (!storageOpen.getAsBoolean()) {
            return CompletableFuture.failedFuture(closed(operation));
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    result.complete(call.call());
                } catch (Throwable e) {
                    result.completeExceptionally(failure(operation, e));
                    if (e instanceof Error error) {
                        throw error;
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(storageOpen.getAsBoolean()
                    ? new StorageOverloadedException(operation + ": too many NATS calls waiting")
                    : closed(operation));
        }
        return result;
    }

    static StorageException closed(String operation) {
        return new StorageException(operation + ": storage is closed");
    }

    /**
     * A JetStream API error (the server refused the request) is a plain {@link StorageException}; anything else (no
     * connection, no responders, a timeout) is {@link StorageUnavailableException}: a retry later may succeed.
     * Messages carry the exception class and the server's error text, never subjects or keys (user data).
     */
    static StorageException failure(String operation, Throwable e) {
        if (e instanceof StorageException storageException) {
            return storageException;
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof JetStreamApiException api) {
            return new StorageException(operation + ": JetStream refused: " + api.getErrorDescription()
                    + " (error " + api.getApiErrorCode() + ")", e);
        }
        return new StorageUnavailableException(operation + ": NATS did not answer: " + e.getClass().getSimpleName(),
                e);
    }

    /** Runs what is queued, refuses new calls, and waits; false when the threads did not end in time. */
    boolean shutdownAndAwait(Duration timeout) {
        executor.shutdown();
        try {
            return executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
