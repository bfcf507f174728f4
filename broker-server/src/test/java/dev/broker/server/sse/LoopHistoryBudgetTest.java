package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.StorageException;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The history budget as the loops use it, against a store whose reads the test completes by hand: with a budget
 * of one byte, one read runs at a time and the others wait; room comes back when the streams holding a read are
 * done with it, close, or their read fails; a waiting stream that closes leaves the queue; past the wait queue a
 * newcomer is closed; and the loops of a server share one budget.
 */
@Timeout(30)
class LoopHistoryBudgetTest {

    private static final String TENANT = LoopFixture.TENANT;

    private final ManualLog log = new ManualLog();
    /** One byte: an idle budget grants any read, a busy one none. */
    private final HistoryBudget budget = new HistoryBudget(1);
    private LoopFixture fixture;
    private LoopFixture other;

    @AfterEach
    void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        if (other != null) {
            other.close();
        }
    }

    private static Event event(long id) {
        return new Event(id, TENANT, "n" + id, 0, Long.toString(id).getBytes(StandardCharsets.US_ASCII));
    }

    private static String ids(String written) {
        return written.replaceAll("(?s)id:(\\d+)\nevent:n\\d+\ndata:\\d+\n\n", "$1 ").trim();
    }

    /** Waits until {@code condition} holds, pumping the streams' own loops meanwhile. */
    private void await(String what, Callable<Boolean> condition, EmbeddedChannel... pump) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.call()) {
            assertTrue(System.nanoTime() < deadline, what);
            for (EmbeddedChannel channel : pump) {
                fixture.onLoop(() -> {
                    channel.runPendingTasks();
                    return null;
                });
            }
            Thread.sleep(5);
        }
    }

    private long used() {
        return budget.used();
    }

    @Test
    void aReadWaitsForRoomAndIsIssuedWhenTheStreamsBeforeItAreDone() throws Exception {
        fixture = new LoopFixture(log, budget);
        fixture.deliver(event(9));
        EmbeddedChannel a = fixture.open(3L);
        EmbeddedChannel b = fixture.open(5L);
        assertEquals(1, log.readCount(), "b waits for room");
        assertEquals(1, budget.waiting());
        fixture.onLoop(() -> {
            fixture.delivery.heartbeat();
            return null;
        });
        assertEquals(":\n\n", fixture.written(b), "a waiting stream gets heartbeats");

        log.read(0).complete(List.of(event(4), event(9)));
        // a writes its page, is done with it, and the room goes to b's read.
        await("b's read issued", () -> log.readCount() == 2, a);
        assertEquals("4 9", ids(fixture.written(a)));
        log.read(1).complete(List.of(event(9)));
        StringBuilder text = new StringBuilder();
        await("b got its page", () -> text.append(fixture.written(b)).toString().contains("id:9"), b);
        assertEquals("9", ids(text.toString()));
        await("every byte back", () -> used() == 0);
        assertTrue(a.isOpen() && b.isOpen());
    }

    @Test
    void aStreamThatClosesBeforeWritingItsReadGivesTheRoomBack() throws Exception {
        fixture = new LoopFixture(log, budget);
        fixture.deliver(event(9));
        EmbeddedChannel a = fixture.open(3L);
        fixture.open(5L);
        log.read(0).complete(List.of(event(4), event(9)));
        // a's read is done, and a holds it until it has written it: it closes first.
        await("a's read counted", () -> used() > 0 && log.readCount() == 1);
        fixture.onLoop(a::close);
        await("b's read issued", () -> log.readCount() == 2);
        log.read(1).complete(List.of(event(9)));
        await("every byte back", () -> used() == 0, fixture.channels.get(1));
    }

    @Test
    void aWaitingStreamThatClosesLeavesTheQueue() throws Exception {
        fixture = new LoopFixture(log, budget);
        fixture.deliver(event(9));
        EmbeddedChannel a = fixture.open(3L);
        EmbeddedChannel b = fixture.open(5L);
        assertEquals(1, budget.waiting());
        fixture.onLoop(b::close);
        assertEquals(0, budget.waiting(), "b's request withdrawn");
        log.read(0).complete(List.of(event(4), event(9)));
        await("every byte back", () -> used() == 0, a);
        assertEquals(1, log.readCount(), "nothing read for b");
        assertEquals("4 9", ids(fixture.written(a)));
    }

    @Test
    void aFailedReadClosesItsStreamsAndGivesTheRoomBack() throws Exception {
        fixture = new LoopFixture(log, budget);
        fixture.deliver(event(9));
        EmbeddedChannel a = fixture.open(3L);
        EmbeddedChannel a2 = fixture.open(3L); // shares a's read
        EmbeddedChannel b = fixture.open(5L);
        assertEquals(1, log.readCount());
        log.read(0).completeExceptionally(new StorageException("after: disk on fire"));
        await("a and a2 closed", () -> !a.isOpen() && !a2.isOpen(), a, a2);
        await("b's read issued", () -> log.readCount() == 2);
        log.read(1).complete(List.of(event(9)));
        await("b got its page", () -> fixture.written(b).contains("id:9"), b);
        await("every byte back", () -> used() == 0);
        assertTrue(b.isOpen());
    }

    @Test
    void pastTheWaitQueueANewcomerIsClosed() throws Exception {
        fixture = new LoopFixture(log, budget, 3);
        fixture.deliver(event(9));
        EmbeddedChannel a = fixture.open(1L);
        EmbeddedChannel b = fixture.open(2L);
        EmbeddedChannel c = fixture.open(3L);
        EmbeddedChannel d = fixture.open(3L); // waits with c for the same read: a waiting stream, too
        EmbeddedChannel e = fixture.open(4L);
        await("e refused and closed", () -> !e.isOpen(), e);
        assertTrue(b.isOpen() && c.isOpen() && d.isOpen());
        assertEquals("", fixture.written(e), "the refused stream got nothing (its client resumes)");
        // Each read in turn; c and d share one.
        for (int i = 0; i < 3; i++) {
            int read = i;
            await("read " + i + " issued", () -> log.readCount() > read, a, b, c, d);
            log.read(i).complete(List.of(event(9)));
        }
        await("every byte back", () -> used() == 0 && budget.waiting() == 0, a, b, c, d);
        assertEquals(3, log.readCount());
        for (EmbeddedChannel stream : List.of(a, b, c, d)) {
            assertTrue(stream.isOpen());
        }
    }

    @Test
    void streamsOfATenantTooLargeToCacheShareOneSnapshotRead() throws Exception {
        // A cache of one name: the tenant's two names turn it off once the first read fills it.
        fixture = new LoopFixture(log, LoopFixture.SETTINGS.withSnapshotCacheNames(1),
                new HistoryBudget(SseSettings.defaults().historyBudgetBytes()), LoopHistory.MAX_WAITING_STREAMS);
        fixture.deliver(event(8));
        fixture.deliver(event(9));
        EmbeddedChannel a = fixture.open(null);
        EmbeddedChannel b = fixture.open(null);
        assertEquals(1, log.readCount(), "one read to fill the cache");
        // The fill keeps events only within the cache's limits: that is all the room it takes, whatever the tenant.
        assertEquals(HistoryBudget.heapBytes(1, LoopFixture.SETTINGS.snapshotCacheBytes()), fixture.budget.used());
        log.read(0).complete(List.of(event(8), event(9)));
        // Too large: the waiting streams go to the store, together, with the room the fill found the tenant needs
        // (two events of a 2-byte name and 1 byte of data).
        await("the snapshot read issued", () -> log.readCount() == 2, a, b);
        assertEquals(HistoryBudget.heapBytes(2, 6), fixture.budget.used());
        EmbeddedChannel c = fixture.open(null); // nothing delivered since: shares it
        fixture.deliver(event(10));
        EmbeddedChannel d = fixture.open(null); // after a delivery: waits for the next read
        assertEquals(2, log.readCount());
        log.read(1).complete(List.of(event(8), event(9)));
        await("d's read issued", () -> log.readCount() == 3, a, b, c, d);
        log.read(2).complete(List.of(event(8), event(9), event(10)));
        for (EmbeddedChannel stream : List.of(a, b, c, d)) {
            StringBuilder text = new StringBuilder();
            await("the snapshot and event 10", () -> text.append(fixture.written(stream)).toString().contains("id:10"),
                    stream);
            assertEquals("8 9 10", ids(text.toString()));
        }
        await("every byte back", () -> fixture.budget.used() == 0);
    }

    @Test
    void theLoopsOfAServerShareOneBudget() throws Exception {
        fixture = new LoopFixture(log, budget);
        ManualLog otherLog = new ManualLog();
        other = new LoopFixture(otherLog, budget);
        fixture.deliver(event(9));
        other.deliver(event(9));
        EmbeddedChannel a = fixture.open(3L);
        EmbeddedChannel b = other.open(3L);
        assertEquals(1, log.readCount());
        assertEquals(0, otherLog.readCount(), "the other loop waits for the room the first one holds");
        log.read(0).complete(List.of(event(9)));
        await("the other loop's read issued", () -> otherLog.readCount() == 1, a);
        otherLog.read(0).complete(List.of(event(9)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String written = "";
        while (!written.contains("id:9") && System.nanoTime() < deadline) {
            written += other.written(b);
            Thread.sleep(5);
        }
        assertEquals("9", ids(written));
        await("every byte back", () -> used() == 0);
        assertFalse(budget.waiting() > 0);
    }
}
