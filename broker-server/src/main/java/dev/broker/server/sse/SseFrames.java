package dev.broker.server.sse;

import dev.broker.storage.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of the stream. An event is {@code id:<id>\nevent:<name>\ndata:<json>\n\n}: no space after the colons,
 * the whole event in one buffer so it leaves in one write. The data is stored compact and ASCII-only already.
 */
public final class SseFrames {

    private static final byte[] ID = "id:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT = "\nevent:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA = "\ndata:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);

    /** A comment line and a blank line; shared by every stream, never released. */
    public static final ByteBuf HEARTBEAT = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(3).writeBytes(":\n\n".getBytes(StandardCharsets.US_ASCII)));

    private SseFrames() {
    }

    /** Encodes one event into a new buffer (the caller owns it). */
    public static ByteBuf encode(ByteBufAllocator alloc, Event event) {
        String id = Long.toString(event.id());
        int nameBytes = ByteBufUtil.utf8Bytes(event.name());
        ByteBuf frame = alloc.directBuffer(ID.length + id.length() + EVENT.length + nameBytes + DATA.length
                + event.data().length + END.length);
        frame.writeBytes(ID);
        frame.writeCharSequence(id, StandardCharsets.US_ASCII);
        frame.writeBytes(EVENT);
        ByteBufUtil.reserveAndWriteUtf8(frame, event.name(), nameBytes);
        frame.writeBytes(DATA);
        frame.writeBytes(event.data());
        frame.writeBytes(END);
        return frame;
    }
}
