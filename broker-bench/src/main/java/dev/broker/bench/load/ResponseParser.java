package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A lean reader of HTTP/1.1 responses on a keep-alive connection, for the publishers: status line, the two headers
 * that frame the body ({@code Content-Length}, {@code Transfer-Encoding: chunked}), and the body, kept only when
 * asked for. It hands each complete response on; no header objects, no per-response allocation unless a body is
 * kept. (Netty's decoder builds a header map per response: at tens of thousands of responses a second on the
 * load generator's single publisher core, that was a third of its time.)
 */
final class ResponseParser {

    /** What the parser hands on. */
    interface Sink {
        /** Whether the body of the response starting now is wanted (as text, for a check). */
        boolean wantsBody();

        /** One complete response; {@code body} is null unless wanted. */
        void response(int status, String body);
    }

    private static final int MAX_HEAD = 16 * 1024;
    private static final int STATUS = 0;
    private static final int HEADERS = 1;
    private static final int BODY = 2;
    private static final int CHUNK_SIZE = 3;
    private static final int CHUNK_DATA = 4;
    private static final int CHUNK_DATA_END = 5;
    private static final int TRAILERS = 6;

    private final Sink sink;
    private int state = STATUS;
    /** The line being read (status line, header, chunk size, trailer), across reads. */
    private byte[] line = new byte[256];
    private int lineLength;
    private int status;
    private long contentLength;
    private boolean chunked;
    private long remaining;
    private StringBuilder body;

    ResponseParser(Sink sink) {
        this.sink = sink;
    }

    /** Consumes the whole buffer (not released). */
    void read(ByteBuf in) throws IOException {
        int n = in.readableBytes();
        byte[] a = ScratchBytes.copyOf(in);
        in.skipBytes(n);
        int pos = 0;
        int end = n;
        while (pos < end) {
            switch (state) {
                case BODY, CHUNK_DATA -> {
                    int take = (int) Math.min(remaining, end - pos);
                    if (body != null) {
                        body.append(new String(a, pos, take, StandardCharsets.UTF_8));
                    }
                    pos += take;
                    remaining -= take;
                    if (remaining == 0) {
                        if (state == BODY) {
                            complete();
                        } else {
                            state = CHUNK_DATA_END;
                        }
                    }
                }
                default -> {
                    int lf = pos;
                    while (lf < end && a[lf] != '\n') {
                        lf++;
                    }
                    append(a, pos, lf - pos);
                    if (lf == end) {
                        return;
                    }
                    pos = lf + 1;
                    int length = lineLength > 0 && line[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
                    lineLength = 0;
                    line(length);
                }
            }
        }
    }

    private void append(byte[] a, int from, int length) {
        if (lineLength + length > MAX_HEAD) {
            throw new IllegalStateException("response line longer than " + MAX_HEAD + " bytes");
        }
        if (lineLength + length > line.length) {
            line = java.util.Arrays.copyOf(line, Math.max(lineLength + length, 2 * line.length));
        }
        System.arraycopy(a, from, line, lineLength, length);
        lineLength += length;
    }

    /** A complete line (without CRLF) of the head, a chunk size or a trailer. */
    private void line(int length) throws IOException {
        switch (state) {
            case STATUS -> {
                // "HTTP/1.1 200 OK"
                if (length < 12 || line[0] != 'H' || line[8] != ' ') {
                    throw new IOException("not an HTTP response: " + new String(line, 0, length, StandardCharsets.ISO_8859_1));
                }
                status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
                contentLength = -1;
                chunked = false;
                body = sink.wantsBody() ? new StringBuilder() : null;
                state = HEADERS;
            }
            case HEADERS -> {
                if (length == 0) {
                    startBody();
                } else if (startsWithIgnoreCase(length, "content-length:")) {
                    contentLength = Long.parseLong(value(length, 15));
                } else if (startsWithIgnoreCase(length, "transfer-encoding:")) {
                    chunked = value(length, 18).toLowerCase(java.util.Locale.ROOT).contains("chunked");
                }
            }
            case CHUNK_SIZE -> {
                long size = 0;
                for (int i = 0; i < length; i++) {
                    int digit = Character.digit(line[i], 16);
                    if (digit < 0) {
                        break; // a chunk extension
                    }
                    size = size * 16 + digit;
                }
                if (size == 0) {
                    state = TRAILERS;
                } else {
                    remaining = size;
                    state = CHUNK_DATA;
                }
            }
            case CHUNK_DATA_END -> state = CHUNK_SIZE; // the CRLF after a chunk's data
            case TRAILERS -> {
                if (length == 0) {
                    complete();
                }
            }
            default -> throw new IllegalStateException("state " + state);
        }
    }

    private void startBody() {
        if (chunked) {
            state = CHUNK_SIZE;
        } else if (contentLength > 0) {
            remaining = contentLength;
            state = BODY;
        } else {
            complete(); // no body (Content-Length: 0, 204, 304)
        }
    }

    private void complete() {
        state = STATUS;
        String text = body == null ? null : body.toString();
        body = null;
        sink.response(status, text);
    }

    private boolean startsWithIgnoreCase(int length, String prefix) {
        if (length < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.toLowerCase((char) line[i]) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String value(int length, int from) {
        return new String(line, from, length - from, StandardCharsets.ISO_8859_1).trim();
    }
}
