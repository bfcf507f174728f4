package dev.broker.bench.jmh;

import dev.broker.server.sse.SseFrames;
import dev.broker.storage.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** {@link SseFrames#encode}: one event into its {@code id/event/data} frame, in a pooled direct buffer. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SseFrameEncodeBench {

    /** Bytes of JSON data. */
    @Param({"64", "1024"})
    int dataBytes;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private Event event;

    @Setup
    public void setUp() {
        StringBuilder data = new StringBuilder("{\"user\":\"ada\",\"text\":\"");
        while (data.length() < dataBytes - 2) {
            data.append('x');
        }
        data.append("\"}");
        event = new Event(123_456_789L, "acme", "chat.message", System.currentTimeMillis(),
                data.toString().getBytes(StandardCharsets.US_ASCII));
    }

    @Benchmark
    public int encode() {
        ByteBuf frame = SseFrames.encode(alloc, event);
        int length = frame.readableBytes();
        frame.release();
        return length;
    }
}
