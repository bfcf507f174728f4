package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/** Raw HTTP/1.1 requests: a fixed head prefix, computed once, plus what varies. */
final class RequestBytes {

    private RequestBytes() {
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code head} ends just before the blank line; {@code lastEventId} may be null. */
    static ByteBuf get(ByteBufAllocator alloc, byte[] head, String lastEventId) {
        ByteBuf buf = alloc.buffer(head.length + 64);
        buf.writeBytes(head);
        if (lastEventId != null) {
            buf.writeCharSequence("Last-Event-ID: ", StandardCharsets.US_ASCII);
            buf.writeCharSequence(lastEventId, StandardCharsets.US_ASCII);
            buf.writeByte('\r').writeByte('\n');
        }
        buf.writeByte('\r').writeByte('\n');
        return buf;
    }

    /** {@code head} ends just before {@code Content-Length}; the body is {@code before + json + after}. */
    static ByteBuf post(ByteBufAllocator alloc, byte[] head, byte[] before, byte[] json, byte[] after) {
        int length = before.length + json.length + after.length;
        ByteBuf buf = alloc.buffer(head.length + 32 + length);
        buf.writeBytes(head);
        buf.writeCharSequence("Content-Length: " + length + "\r\n\r\n", StandardCharsets.US_ASCII);
        buf.writeBytes(before).writeBytes(json).writeBytes(after);
        return buf;
    }
}
