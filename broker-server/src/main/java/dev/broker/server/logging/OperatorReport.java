package dev.broker.server.logging;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * What happens per client or per stream, reported in aggregate: every {@link #INTERVAL_SECONDS} seconds, one
 * operator event for each count that grew since the last report ("closed 120 slow SSE consumers in the last 10 s"),
 * and nothing while nothing happens. So a storm of slow consumers, refused connections or failed history reads
 * costs one line per interval, not one per client. The counts are the server's own (the same the metrics read);
 * the report only reads them, on a thread of its own ({@code broker-report}).
 */
public final class OperatorReport implements AutoCloseable {

    public static final int INTERVAL_SECONDS = 10;

    /** A count to report: its event, level, and how to say a growth of {@code n}. */
    private record Tally(String event, Level level, LongSupplier count, LongFunction<String> message, long[] last) {
    }

    private final List<Tally> tallies = new ArrayList<>();
    private final long intervalSeconds;
    private ScheduledExecutorService timer;

    public OperatorReport() {
        this(INTERVAL_SECONDS);
    }

    OperatorReport(long intervalSeconds) {
        this.intervalSeconds = intervalSeconds;
    }

    /**
     * Reports growths of {@code count} as {@code event}; {@code message} says a growth of {@code n} (the interval is
     * appended). Call before {@link #start}.
     */
    public OperatorReport add(String event, Level level, LongSupplier count, LongFunction<String> message) {
        tallies.add(new Tally(event, level, count, message, new long[] {count.getAsLong()}));
        return this;
    }

    /** Reports every interval from now on. */
    public synchronized OperatorReport start() {
        timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "broker-report");
            thread.setDaemon(true);
            return thread;
        });
        timer.scheduleAtFixedRate(this::report, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
        return this;
    }

    /** Logs one event per count that grew since the last call. */
    public synchronized void report() {
        for (Tally tally : tallies) {
            long now = tally.count.getAsLong();
            long grown = now - tally.last[0];
            tally.last[0] = now;
            if (grown > 0) {
                OperatorLog.log(tally.level, tally.event, tally.message.apply(grown) + " in the last " + intervalSeconds
                        + " s", "count", grown, "interval_seconds", intervalSeconds);
            }
        }
    }

    /** Stops the timer, after a last report of what happened since the previous one. */
    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
            report();
        }
    }
}
