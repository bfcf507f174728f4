package dev.broker.server.sse;

import java.util.concurrent.TimeUnit;

/**
 * The tuning of the SSE fan-out and its snapshot caches, fixed at start-up (the server builds it from its flags;
 * tests build their own).
 *
 * @param heartbeatSeconds       seconds between heartbeat comments; 0 turns them off
 * @param drainIntervalMillis    at most one drain of a loop's inbox per this interval: under a steady stream the
 *                               events of an interval leave together, as one write per stream
 * @param fanOutChunk            streams written per task of a fan-out; the rest follows after the loop's next I/O pass
 * @param snapshotCacheNames     a tenant with more event names than this is not cached
 * @param snapshotCacheBytes     a tenant whose latest frames take more bytes than this is not cached
 * @param snapshotCacheLoopBytes what the snapshot caches of one event loop may hold together
 * @param snapshotLingerMillis   how long a tenant's snapshot cache outlives its last stream on a loop
 * @param historyBudgetBytes     what the store reads of history (snapshots not served from a cache, replays) may
 *                               hold together across the server; past it, streams wait for their history
 */
public record SseSettings(
        int heartbeatSeconds,
        long drainIntervalMillis,
        int fanOutChunk,
        int snapshotCacheNames,
        int snapshotCacheBytes,
        long snapshotCacheLoopBytes,
        long snapshotLingerMillis,
        long historyBudgetBytes) {

    public SseSettings {
        if (heartbeatSeconds < 0 || drainIntervalMillis < 0 || fanOutChunk < 1 || snapshotCacheNames < 0
                || snapshotCacheBytes < 0 || snapshotCacheLoopBytes < 0 || snapshotLingerMillis < 0
                || historyBudgetBytes < 0) {
            throw new IllegalArgumentException("SSE settings out of range: " + this);
        }
    }

    /** The defaults the benchmarks were measured with. */
    public static SseSettings defaults() {
        return new SseSettings(30, 50, 1024, 1024, 1024 * 1024, 64L * 1024 * 1024, 30_000, 64L * 1024 * 1024);
    }

    long drainIntervalNanos() {
        return TimeUnit.MILLISECONDS.toNanos(drainIntervalMillis);
    }

    long lingerNanos() {
        return TimeUnit.MILLISECONDS.toNanos(snapshotLingerMillis);
    }

    /** How often a loop looks for tenants whose linger is over: often enough to honour the linger, at most 5 s. */
    long sweepIntervalNanos() {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(lingerNanos() / 4, TimeUnit.SECONDS.toNanos(5)));
    }

    public SseSettings withDrainIntervalMillis(long v) {
        return new SseSettings(heartbeatSeconds, v, fanOutChunk, snapshotCacheNames, snapshotCacheBytes,
                snapshotCacheLoopBytes, snapshotLingerMillis, historyBudgetBytes);
    }

    public SseSettings withSnapshotCacheNames(int v) {
        return new SseSettings(heartbeatSeconds, drainIntervalMillis, fanOutChunk, v, snapshotCacheBytes,
                snapshotCacheLoopBytes, snapshotLingerMillis, historyBudgetBytes);
    }

    public SseSettings withFanOutChunk(int v) {
        return new SseSettings(heartbeatSeconds, drainIntervalMillis, v, snapshotCacheNames, snapshotCacheBytes,
                snapshotCacheLoopBytes, snapshotLingerMillis, historyBudgetBytes);
    }

    public SseSettings withHistoryBudgetBytes(long v) {
        return new SseSettings(heartbeatSeconds, drainIntervalMillis, fanOutChunk, snapshotCacheNames,
                snapshotCacheBytes, snapshotCacheLoopBytes, snapshotLingerMillis, v);
    }
}
