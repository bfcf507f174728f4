package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Streams writing history take turns: never inline, a few slices per task, in order, later ones in a later task. */
class HistoryTurnsTest {

    private final EmbeddedChannel anchor = new EmbeddedChannel();
    private final HistoryTurns turns = new HistoryTurns(anchor.eventLoop());
    private final List<Integer> ran = new ArrayList<>();

    @AfterEach
    void stop() {
        anchor.finishAndReleaseAll();
    }

    /** Runs the loop's scheduled tasks that are due, one pass. */
    private void onePass() {
        anchor.runScheduledPendingTasks();
    }

    @Test
    void slicesRunInLaterTasksAFewAtATimeInOrder() {
        int slices = 2 * HistoryTurns.SLICES_PER_TASK + 3;
        for (int i = 0; i < slices; i++) {
            int slice = i;
            turns.take(() -> ran.add(slice));
        }
        assertEquals(List.of(), ran, "never inline");
        onePass();
        assertEquals(HistoryTurns.SLICES_PER_TASK, ran.size());
        onePass();
        onePass();
        assertEquals(slices, ran.size());
        for (int i = 0; i < slices; i++) {
            assertEquals(i, ran.get(i));
        }
    }

    @Test
    void aSliceTakingAnotherTurnGoesBehindTheOthers() {
        turns.take(() -> {
            ran.add(0);
            turns.take(() -> ran.add(2)); // the same stream's next slice
        });
        turns.take(() -> ran.add(1));
        onePass();
        assertEquals(List.of(0, 1, 2), ran.subList(0, Math.min(3, ran.size())));
    }
}
