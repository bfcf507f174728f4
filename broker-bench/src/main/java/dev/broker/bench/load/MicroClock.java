package dev.broker.bench.load;

/**
 * Wall-clock microseconds from the monotonic clock: one reading of the epoch at start-up, then {@code nanoTime}.
 * Publish times travel inside the events' data in these units; inside one process they are exactly comparable.
 */
public final class MicroClock {

    private static final long BASE_MICROS = System.currentTimeMillis() * 1000 - System.nanoTime() / 1000;

    private MicroClock() {
    }

    public static long now() {
        return BASE_MICROS + System.nanoTime() / 1000;
    }
}
