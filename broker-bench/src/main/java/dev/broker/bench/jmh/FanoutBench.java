package dev.broker.bench.jmh;

import dev.broker.server.sse.SseFrames;
import dev.broker.storage.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Fan-out of one event to N streams the way the server does it: encode the frame once, then write and flush a
 * retained duplicate of the same bytes to each channel of a plain array (the server's {@code LiveStreams}), and
 * release the original once. The channels are
 * {@link EmbeddedChannel}s whose outbound end releases what reaches it, as a socket would after writing it, so the
 * number is the server-side cost per event up to the transport (no syscalls). Reported per event; divide by
 * {@code subscribers} for the cost per delivery.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FanoutBench {

    @Param({"1000", "10000"})
    int subscribers;

    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private EmbeddedChannel[] live;
    private Event event;
    private long id;

    /** Stands in for the socket: consumes (releases) every write and completes its promise. */
    private static final class ReleasingSink extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ReferenceCountUtil.release(msg);
            promise.trySuccess();
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            // nothing buffered
        }

        @Override
        public boolean isSharable() {
            return true;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        ReleasingSink sink = new ReleasingSink();
        for (int i = 0; i < subscribers; i++) {
            channels.add(new EmbeddedChannel(DefaultChannelId.newInstance(), sink));
        }
        live = channels.toArray(EmbeddedChannel[]::new);
        event = new Event(1, "acme", "chat.message", System.currentTimeMillis(),
                "{\"user\":\"ada\",\"text\":\"hello, world\",\"n\":42}".getBytes(StandardCharsets.US_ASCII));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    @Benchmark
    public void fanOutOneEvent() {
        ByteBuf frame = SseFrames.encode(PooledByteBufAllocator.DEFAULT,
                new Event(++id, event.tenant(), event.name(), event.timestamp(), event.data()));
        // As the server's fan-out: one write and flush per stream of a retained duplicate, the original released once.
        try {
            for (EmbeddedChannel channel : live) {
                channel.writeAndFlush(frame.retainedDuplicate(), channel.voidPromise());
            }
        } finally {
            frame.release();
        }
    }
}
