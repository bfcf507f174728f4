package dev.broker.storage.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.StorageUnavailableException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The feed's bookkeeping for {@code caughtUp()}, with the stream's last sequence answered by the test: at most one
 * lookup in flight, and a caller never satisfied by a lookup that started before its call.
 */
@Timeout(30)
class JetStreamFeedTest {

    /** The lookups the feed started, in order; the test answers them. */
    private final List<CompletableFuture<Long>> lookups = new CopyOnWriteArrayList<>();
    private final JetStreamFeed feed = new JetStreamFeed(10, () -> {
        CompletableFuture<Long> lookup = new CompletableFuture<>();
        lookups.add(lookup);
        return lookup;
    });

    private static Event event(long id) {
        return new Event(id, "acme", "n", 0, new byte[0]);
    }

    private void awaitLookups(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (lookups.size() < count) {
            assertTrue(System.nanoTime() < deadline, "lookup " + count + " not started");
            Thread.sleep(1); // the follow-up lookup starts on another thread
        }
    }

    @Test
    void callersDuringALookupShareTheNextOneAndCompleteOnceTheFeedDeliveredItsSequence() throws Exception {
        CompletableFuture<Void> first = feed.caughtUp();
        CompletableFuture<Void> second = feed.caughtUp();
        CompletableFuture<Void> third = feed.caughtUp();
        assertEquals(1, lookups.size(), "one lookup in flight; later callers wait for the next");

        lookups.get(0).complete(10L); // already delivered up to 10
        first.get(5, TimeUnit.SECONDS);
        awaitLookups(2);
        assertFalse(second.isDone(), "the first lookup may predate the second call");
        assertEquals(2, lookups.size(), "one lookup serves both waiting callers");

        lookups.get(1).complete(12L);
        feed.deliver(event(11));
        assertFalse(second.isDone());
        feed.deliver(event(12));
        second.get(5, TimeUnit.SECONDS);
        third.get(5, TimeUnit.SECONDS);
        assertEquals(12, feed.delivered());
    }

    @Test
    void appendsWaitForTheFeedToDeliverTheirSequence() throws Exception {
        CompletableFuture<Void> thirteen = feed.awaitDelivered(13);
        CompletableFuture<Void> eleven = feed.awaitDelivered(11);
        assertTrue(feed.awaitDelivered(10).isDone());

        feed.deliver(event(11));
        eleven.get(5, TimeUnit.SECONDS);
        assertFalse(thirteen.isDone());
        feed.skip(13); // a message Broker did not write still advances the feed
        thirteen.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aFailedLookupFailsItsCallersAsUnavailableAndTheNextCallTriesAgain() throws Exception {
        CompletableFuture<Void> failing = feed.caughtUp();
        lookups.get(0).completeExceptionally(new java.io.IOException("no responders"));

        ExecutionException thrown = assertThrows(ExecutionException.class, () -> failing.get(5, TimeUnit.SECONDS));
        assertInstanceOf(StorageUnavailableException.class, thrown.getCause());

        CompletableFuture<Void> retried = feed.caughtUp();
        awaitLookups(2);
        lookups.get(1).complete(10L);
        retried.get(5, TimeUnit.SECONDS);
    }

    @Test
    void closingFailsWhoeverWaits() {
        CompletableFuture<Void> waiting = feed.awaitDelivered(20);

        feed.close();

        ExecutionException thrown = assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS));
        assertEquals("event feed: storage is closed", thrown.getCause().getMessage());
        assertTrue(feed.caughtUp().isCompletedExceptionally());
    }
}
