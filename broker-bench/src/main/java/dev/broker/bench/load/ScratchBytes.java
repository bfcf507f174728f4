package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * The bytes of a read as an array, for the load generator's parsers: one copy into the loop's scratch array, because
 * scanning a direct buffer byte by byte through its accessors costs several times more than scanning an array.
 */
final class ScratchBytes {

    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[64 * 1024];
        }
    };

    private ScratchBytes() {
    }

    /**
     * The readable bytes of {@code in} at the start of this thread's scratch array (valid until the next call on the
     * thread); the buffer's indexes are left alone.
     */
    static byte[] copyOf(ByteBuf in) {
        int n = in.readableBytes();
        byte[] scratch = SCRATCH.get();
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, 2 * scratch.length)];
            SCRATCH.set(scratch);
        }
        in.getBytes(in.readerIndex(), scratch, 0, n);
        return scratch;
    }
}
