package dev.broker.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The hashing threads' two bounded lanes, with the one thread held busy while the test queues work. */
@Timeout(30)
class HashWorkersTest {

    private final HashWorkers workers = new HashWorkers(1, 2);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() throws InterruptedException {
        release.countDown();
        workers.shutdown();
        assertTrue(workers.awaitTermination(10, TimeUnit.SECONDS));
    }

    /** Occupies the only thread until {@link #release}; returns once it runs. */
    private void holdTheThread() throws InterruptedException {
        CountDownLatch running = new CountDownLatch(1);
        workers.submit(HashLane.FIRST, () -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        assertTrue(running.await(10, TimeUnit.SECONDS));
    }

    @Test
    void aFullLaneRefusesAtOnceAndTheOtherStillTakesWork() throws Exception {
        holdTheThread();
        workers.submit(HashLane.FIRST, () -> 1);
        workers.submit(HashLane.FIRST, () -> 2);

        CompletableFuture<Integer> third = workers.submit(HashLane.FIRST, () -> 3);

        assertTrue(third.isCompletedExceptionally(), "refused without waiting");
        CompletionException refused = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                third::join);
        assertInstanceOf(HashingBusyException.class, refused.getCause());
        CompletableFuture<Integer> second = workers.submit(HashLane.SECOND, () -> 4);
        assertEquals(2, workers.waiting(HashLane.FIRST));
        assertEquals(1, workers.waiting(HashLane.SECOND));

        release.countDown();
        assertEquals(4, second.get(10, TimeUnit.SECONDS));
        assertEquals(0, workers.waiting(HashLane.FIRST));
        assertEquals(3, workers.submit(HashLane.FIRST, () -> 3).get(10, TimeUnit.SECONDS), "room again");
    }

    @Test
    void theFirstLaneIsServedBeforeTheSecondAndEachInOrder() throws Exception {
        holdTheThread();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        workers.submit(HashLane.SECOND, () -> order.add("second-a"));
        CompletableFuture<Boolean> last = workers.submit(HashLane.SECOND, () -> order.add("second-b"));
        workers.submit(HashLane.FIRST, () -> order.add("first-a"));
        workers.submit(HashLane.FIRST, () -> order.add("first-b"));

        release.countDown();
        // One thread runs the checks one at a time, so the last to run completing means all four have run.
        last.get(10, TimeUnit.SECONDS);

        assertEquals(List.of("first-a", "first-b", "second-a", "second-b"), order);
    }

    @Test
    void shutdownFailsTheWaitingChecksAndLetsTheRunningOneFinish() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<String> busy = workers.submit(HashLane.FIRST, () -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "done";
        });
        assertTrue(running.await(10, TimeUnit.SECONDS));
        CompletableFuture<Integer> waiting = workers.submit(HashLane.SECOND, () -> 1);

        workers.shutdown();

        CompletionException refused = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                waiting::join);
        assertInstanceOf(HashingBusyException.class, refused.getCause());
        assertEquals(0, workers.waiting(HashLane.SECOND));
        release.countDown();
        assertEquals("done", busy.get(10, TimeUnit.SECONDS));
        assertInstanceOf(HashingBusyException.class, org.junit.jupiter.api.Assertions.assertThrows(
                CompletionException.class, () -> workers.submit(HashLane.FIRST, () -> 2).join()).getCause(),
                "no more checks after shutdown");
    }

    @Test
    void workThatThrowsFailsItsFuture() {
        CompletableFuture<Object> failed = workers.submit(HashLane.FIRST, () -> {
            throw new IllegalStateException("boom");
        });
        CompletionException thrown = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                failed::join);
        assertInstanceOf(IllegalStateException.class, thrown.getCause());
    }
}
