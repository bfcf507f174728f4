package dev.broker.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The load generator's stream parser, fed the way sockets split bytes: anywhere. */
class SseHandlerTest {

    private final List<long[]> events = new ArrayList<>();
    private final Subscriber subscriber = new Subscriber(0);
    private final Subscriber.Listener listener = (s, publishMicros, seq) -> events.add(new long[] {publishMicros, seq});

    private EmbeddedChannel channel() {
        EmbeddedChannel channel = new EmbeddedChannel(new SseHandler(subscriber, listener,
                Unpooled.copiedBuffer("GET /sse HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII)));
        ByteBuf request = channel.readOutbound();
        request.release();
        return channel;
    }

    private static void feedInPieces(EmbeddedChannel channel, String text, int piece) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < bytes.length; i += piece) {
            channel.writeInbound(Unpooled.copiedBuffer(bytes, i, Math.min(piece, bytes.length - i)));
        }
    }

    @Test
    void readsBrokersCloseDelimitedStreamSplitAnywhere() {
        String stream = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
                + "id:7\nevent:tick\ndata:{\"t\":1700000000000001,\"s\":3,\"p\":\"xx\"}\n\n"
                + ":\n\n"
                + "id:8\nevent:tick\ndata:{\"t\":1700000000000002,\"s\":4}\n\n";
        for (int piece : new int[] {1, 3, 7, 1000}) {
            events.clear();
            EmbeddedChannel channel = channel();
            feedInPieces(channel, stream, piece);
            assertEquals(2, events.size(), "piece size " + piece);
            assertEquals(1700000000000001L, events.get(0)[0]);
            assertEquals(3, events.get(0)[1]);
            assertEquals(4, events.get(1)[1]);
            assertEquals("8", subscriber.lastEventId());
            assertFalse(channel.finish());
        }
    }

    @Test
    void readsNchansChunkedStreamWithSpacesAndCrLf() {
        String body1 = ": hi\r\n\r\n";
        String body2 = "event: n1\r\nid: 1795749819:0\r\ndata: {\"t\":5,\"s\":0}\r\n\r\n";
        String stream = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(body1.length()) + "\r\n" + body1 + "\r\n"
                + Integer.toHexString(body2.length()) + ";ext=1\r\n" + body2 + "\r\n";
        for (int piece : new int[] {1, 2, 5, 1000}) {
            events.clear();
            EmbeddedChannel channel = channel();
            feedInPieces(channel, stream, piece);
            assertEquals(1, events.size(), "piece size " + piece);
            assertEquals(5, events.get(0)[0]);
            assertEquals(0, events.get(0)[1]);
            assertEquals("1795749819:0", subscriber.lastEventId());
            assertFalse(channel.finish());
        }
    }

    @Test
    void foreignDataIsCountedWithoutTimes() {
        EmbeddedChannel channel = channel();
        feedInPieces(channel, "HTTP/1.1 200 OK\r\n\r\nid:1\nevent:user\ndata:{\"name\":\"Ada\"}\n\n", 1000);
        assertEquals(1, events.size());
        assertEquals(-1, events.get(0)[0]);
        assertEquals(-1, events.get(0)[1]);
        assertFalse(channel.finish());
    }

    @Test
    void refusalClosesTheConnection() {
        EmbeddedChannel channel = channel();
        feedInPieces(channel, "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n", 1000);
        assertTrue(events.isEmpty());
        assertFalse(channel.isActive());
    }
}
