package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server-wide budget of history bytes on its own: room, the FIFO, resizing, giving back, many threads. */
@Timeout(30)
class HistoryBudgetTest {

    /** Grants that had to wait run here, when the test says. */
    private final ConcurrentLinkedQueue<Runnable> loop = new ConcurrentLinkedQueue<>();
    private final List<String> granted = new ArrayList<>();

    private HistoryBudget.Grant ask(HistoryBudget budget, long bytes, String name) {
        return budget.request(bytes, loop::add, grant -> granted.add(name));
    }

    private void runLoop() {
        Runnable task;
        while ((task = loop.poll()) != null) {
            task.run();
        }
    }

    @Test
    void grantsAtOnceWhileThereIsRoomThenQueuesInOrder() {
        HistoryBudget budget = new HistoryBudget(100);
        HistoryBudget.Grant a = ask(budget, 60, "a");
        ask(budget, 30, "b");
        assertEquals(List.of("a", "b"), granted, "granted at once, on the caller's thread");
        ask(budget, 20, "c"); // 110 > 100: waits
        ask(budget, 5, "d"); // would fit, but does not overtake c
        assertEquals(2, budget.waiting());
        assertEquals(90, budget.used());

        a.release();
        assertEquals(List.of("a", "b"), granted, "a grant that waited runs on its loop");
        runLoop();
        assertEquals(List.of("a", "b", "c", "d"), granted);
        assertEquals(55, budget.used());
        assertEquals(0, budget.waiting());
    }

    @Test
    void anIdleBudgetGrantsAReadLargerThanItself() {
        HistoryBudget budget = new HistoryBudget(100);
        HistoryBudget.Grant big = ask(budget, 1_000, "big");
        ask(budget, 1, "small");
        assertEquals(List.of("big"), granted, "the big read runs alone");
        big.release();
        runLoop();
        assertEquals(List.of("big", "small"), granted);
    }

    @Test
    void aResizedGrantCountsWhatTheReadHolds() {
        HistoryBudget budget = new HistoryBudget(100);
        HistoryBudget.Grant a = ask(budget, 50, "a");
        ask(budget, 60, "b");
        a.resize(30); // the read held less than estimated: b fits now
        runLoop();
        assertEquals(List.of("a", "b"), granted);
        assertEquals(90, budget.used());
        a.resize(80); // or more: counted, over the limit, and the next waits
        assertEquals(140, budget.used());
        ask(budget, 1, "c");
        assertEquals(1, budget.waiting());
    }

    @Test
    void releaseIsIdempotentAndWithdrawsAWaitingGrant() {
        HistoryBudget budget = new HistoryBudget(100);
        HistoryBudget.Grant a = ask(budget, 100, "a");
        HistoryBudget.Grant b = ask(budget, 10, "b");
        b.release();
        assertEquals(0, budget.waiting());
        a.release();
        a.release();
        b.release();
        runLoop();
        assertEquals(List.of("a"), granted, "a withdrawn grant is never granted");
        assertEquals(0, budget.used());
    }

    @Test
    void aGrantForALoopThatIsGoneIsGivenBack() {
        HistoryBudget budget = new HistoryBudget(100);
        HistoryBudget.Grant a = budget.request(100, loop::add, grant -> { });
        budget.request(10, task -> {
            throw new java.util.concurrent.RejectedExecutionException("loop shut down");
        }, grant -> granted.add("never"));
        a.release();
        assertEquals(0, budget.used());
        assertEquals(List.of(), granted);
    }

    @Test
    void manyThreadsAskingAndGivingBackLeaveNothingUsed() throws Exception {
        HistoryBudget budget = new HistoryBudget(1_000);
        int threads = 4;
        int rounds = 2_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger grants = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < rounds; i++) {
                        CountDownLatch done = new CountDownLatch(1);
                        long bytes = ThreadLocalRandom.current().nextLong(1, 600);
                        // Grants that waited run on a thread of their own: any executor will do.
                        HistoryBudget.Grant grant = budget.request(bytes, task -> new Thread(task).start(), g -> {
                            grants.incrementAndGet();
                            done.countDown();
                        });
                        try {
                            assertTrue(done.await(10, TimeUnit.SECONDS), "a grant never came");
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                        if (ThreadLocalRandom.current().nextBoolean()) {
                            grant.resize(ThreadLocalRandom.current().nextLong(0, 1_200));
                        }
                        grant.release();
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get(25, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * rounds, grants.get());
        assertEquals(0, budget.used());
        assertEquals(0, budget.waiting());
        assertFalse(budget.used() > budget.limit());
    }
}
