package dev.broker.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The publishers' response reader, fed the way sockets split bytes: anywhere, several responses per read. */
class ResponseParserTest {

    private final List<String> got = new ArrayList<>();
    private boolean wantBodies = true;
    private final ResponseParser parser = new ResponseParser(new ResponseParser.Sink() {
        @Override
        public boolean wantsBody() {
            return wantBodies;
        }

        @Override
        public void response(int status, String body) {
            got.add(status + " " + body);
        }
    });

    private void feed(String text, int piece) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < bytes.length; i += piece) {
            // Direct buffers, as the socket hands them: the parser copies them into its scratch array.
            ByteBuf buf = Unpooled.directBuffer(piece);
            buf.writeBytes(bytes, i, Math.min(piece, bytes.length - i));
            try {
                parser.read(buf);
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void readsPipelinedResponsesWithContentLengthSplitAnywhere() throws IOException {
        String one = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 43\r\n"
                + "connection: keep-alive\r\n\r\n{\"id\":\"7\",\"event\":\"e1\",\"timestamp\":1700000}";
        String two = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\nRetry-After: 1\r\n\r\n{\"e\":\"x\"}";
        for (int piece : new int[] {1, 2, 7, 64, 4096}) {
            got.clear();
            feed(one + two + one, piece);
            assertEquals(List.of("200 {\"id\":\"7\",\"event\":\"e1\",\"timestamp\":1700000}", "503 {\"e\":\"x\"}",
                    "200 {\"id\":\"7\",\"event\":\"e1\",\"timestamp\":1700000}"), got, "piece size " + piece);
        }
    }

    @Test
    void readsChunkedBodiesAndEmptyOnes() throws IOException {
        String chunked = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\nqueue\r\n3\r\nd 1\r\n0\r\nX-Trailer: t\r\n\r\n";
        String empty = "HTTP/1.1 204 No Content\r\n\r\n";
        for (int piece : new int[] {1, 3, 4096}) {
            got.clear();
            feed(chunked + empty + chunked, piece);
            assertEquals(List.of("201 queued 1", "204 ", "201 queued 1"), got, "piece size " + piece);
        }
    }

    @Test
    void skipsBodiesNobodyAskedFor() throws IOException {
        wantBodies = false;
        feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 4096);
        assertEquals(1, got.size());
        assertEquals("200 null", got.get(0));
    }

    @Test
    void refusesWhatIsNotAResponse() {
        assertThrows(IOException.class, () -> feed("SSH-2.0-OpenSSH_9.2\r\n", 4096));
    }
}
