package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.broker.storage.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The caches of one loop share a byte budget: a tenant that would pass it is not cached, and nothing is lost. */
class SnapshotCacheBudgetTest {

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private static Event event(long id, String name, int size) {
        return new Event(id, "t", name, 0, ("\"" + "x".repeat(size) + "\"").getBytes(StandardCharsets.US_ASCII));
    }

    private static SnapshotCache filled(SnapshotCache.Budget budget, List<Event> events) {
        SnapshotCache cache = new SnapshotCache(budget, 1024, 1024 * 1024);
        cache.startFilling();
        cache.fill(events, ALLOC);
        return cache;
    }

    @Test
    void countsFramesAndTheJoinedSnapshotAndGivesThemBack() {
        SnapshotCache.Budget budget = new SnapshotCache.Budget(1 << 20);
        SnapshotCache cache = filled(budget, List.of(event(1, "a", 100), event(2, "b", 100)));
        assertEquals(SnapshotCache.State.READY, cache.state());
        long frames = budget.used;
        ByteBuf snapshot = cache.snapshot(ALLOC);
        assertEquals(2 * frames, budget.used, "the joined snapshot counts too");
        snapshot.release();

        ByteBuf newer = SseFrames.encode(ALLOC, event(3, "a", 10));
        cache.record("a", 3, newer); // replaces a's frame, drops the joined snapshot
        newer.release();
        assertEquals(frames - 90, budget.used);

        cache.release();
        assertEquals(0, budget.used);
    }

    @Test
    void aTenantThatWouldPassTheBudgetIsNotCached() {
        SnapshotCache.Budget budget = new SnapshotCache.Budget(4_000);
        SnapshotCache first = filled(budget, List.of(event(1, "a", 1_000)));
        assertEquals(SnapshotCache.State.READY, first.state());
        long held = budget.used;

        // Its frames plus their joined copy would pass what is left: off, and everything it took is given back.
        SnapshotCache second = filled(budget, List.of(event(2, "b", 600), event(3, "c", 600), event(4, "d", 600)));
        assertEquals(SnapshotCache.State.OFF, second.state());
        assertEquals(held, budget.used);

        first.release();
        second.release();
        assertEquals(0, budget.used);
    }
}
