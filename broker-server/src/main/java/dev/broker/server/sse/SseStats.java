package dev.broker.server.sse;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.util.concurrent.atomic.LongAdder;

/**
 * Server-wide counts of the SSE part, for metrics and the operator log. Every loop adds to the same counters:
 * {@link LongAdder}s, so that loops never contend on one cache line, and the fan-out adds once per burst and group
 * of streams, never once per write. Read from any thread.
 */
public final class SseStats {

    private final LongAdder opened = new LongAdder();
    private final LongAdder closed = new LongAdder();
    private final LongAdder deliveries = new LongAdder();
    private final LongAdder deliveredBytes = new LongAdder();
    private final LongAdder slowConsumerCloses = new LongAdder();
    private final LongAdder snapshotCacheHits = new LongAdder();
    private final LongAdder snapshotCacheMisses = new LongAdder();
    private final LongAdder historyFailures = new LongAdder();

    /** Streams open now. */
    public long openStreams() {
        return opened.sum() - closed.sum();
    }

    /** Live events handed to streams: each event counts once per stream it was written to. */
    public long deliveries() {
        return deliveries.sum();
    }

    /** The bytes of those events. */
    public long deliveredBytes() {
        return deliveredBytes.sum();
    }

    /** Streams closed because they could not keep up. */
    public long slowConsumerCloses() {
        return slowConsumerCloses.sum();
    }

    /** New streams without Last-Event-ID whose snapshot came from their loop's cache at once. */
    public long snapshotCacheHits() {
        return snapshotCacheHits.sum();
    }

    /** New streams without Last-Event-ID that waited for a cache fill or read their snapshot from the store. */
    public long snapshotCacheMisses() {
        return snapshotCacheMisses.sum();
    }

    /** Streams closed because reading or writing their history failed (a store fault, usually). */
    public long historyFailures() {
        return historyFailures.sum();
    }

    /** Added to each stream's close future: it fires once, whenever and however the stream ends. */
    private final ChannelFutureListener countClose = closedChannel -> closed.increment();

    /** Counts a stream as open until its channel closes. */
    void opened(Channel channel) {
        opened.increment();
        channel.closeFuture().addListener(countClose);
    }

    void delivered(long events, long bytes) {
        deliveries.add(events);
        deliveredBytes.add(bytes);
    }

    void slowConsumerClosed() {
        slowConsumerCloses.increment();
    }

    void snapshotFromCache(boolean hit) {
        (hit ? snapshotCacheHits : snapshotCacheMisses).increment();
    }

    void historyFailed() {
        historyFailures.increment();
    }
}
