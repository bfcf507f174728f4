package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * The client end of one event stream, kept lean because one load-generator core parses every delivery: it reads
 * the response head (200 expected; chunked or close-delimited body), then the event stream line by line, and hands
 * each event's publish time and sequence number (parsed from the data in place) to the scenario. Only the {@code id}
 * becomes a String, for a later {@code Last-Event-ID}.
 */
final class SseHandler extends ChannelInboundHandlerAdapter {

    private static final int HEAD = 0;
    private static final int BODY = 1;
    private static final int CHUNK_SIZE = 2;
    private static final int CHUNK_DATA = 3;
    private static final int CHUNK_END = 4;
    private static final int FAILED = 5;
    private static final int MAX_HEAD = 16 * 1024;
    private static final int MAX_LINE = 1 << 20;

    private final Subscriber subscriber;
    private final Subscriber.Listener listener;
    private final ByteBuf request;
    final CompletableFuture<Void> opened = new CompletableFuture<>();

    private int state = HEAD;
    private boolean requestSent;
    private boolean chunked;
    private long chunkRemaining;
    private long chunkSize;
    private boolean chunkSizeDone;
    private ByteBuf head;
    /** The start of a line that has not ended yet in the bytes read so far. */
    private byte[] partial;
    private int partialLength;

    // The event being assembled.
    private boolean hasData;
    private long publishMicros = -1;
    private long seq = -1;

    SseHandler(Subscriber subscriber, Subscriber.Listener listener, ByteBuf request) {
        this.subscriber = subscriber;
        this.listener = listener;
        this.request = request;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        subscriber.channel = ctx.channel();
        subscriber.events = 0;
        subscriber.reads = 0;
        requestSent = true;
        ctx.writeAndFlush(request);
        ctx.fireChannelActive();
    }

    /** Releases the request when the connection never came up (else the write released it). */
    void releaseRequest() {
        if (!requestSent && request.refCnt() > 0) {
            requestSent = true;
            request.release();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            if (state == HEAD) {
                readHead(ctx, in);
            }
            if (state != HEAD && state != FAILED && in.isReadable()) {
                subscriber.reads++;
                readBody(in);
            }
        } finally {
            in.release();
        }
    }

    private void readHead(ChannelHandlerContext ctx, ByteBuf in) {
        if (head == null) {
            head = Unpooled.buffer(512);
        }
        int before = head.writerIndex();
        head.writeBytes(in, in.readerIndex(), in.readableBytes());
        int end = indexOf(head, "\r\n\r\n");
        if (end < 0) {
            in.skipBytes(in.readableBytes());
            if (head.readableBytes() > MAX_HEAD) {
                fail(ctx, new IOException("response head larger than " + MAX_HEAD + " bytes"));
            }
            return;
        }
        int headLength = end + 4;
        in.skipBytes(headLength - before);
        String text = head.toString(0, headLength, StandardCharsets.ISO_8859_1);
        head.release();
        head = null;
        int firstSpace = text.indexOf(' ');
        int status = firstSpace < 0 ? -1 : parseStatus(text, firstSpace + 1);
        if (status != 200) {
            fail(ctx, new IOException("subscribe answered " + text.lines().findFirst().orElse("?")));
            return;
        }
        chunked = text.toLowerCase(java.util.Locale.ROOT).contains("\ntransfer-encoding: chunked");
        state = chunked ? CHUNK_SIZE : BODY;
        opened.complete(null);
        listener.onOpen(subscriber);
    }

    private static int parseStatus(String text, int at) {
        if (text.length() < at + 3) {
            return -1;
        }
        try {
            return Integer.parseInt(text.substring(at, at + 3));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void readBody(ByteBuf in) {
        int n = in.readableBytes();
        readBody(ScratchBytes.copyOf(in), 0, n);
        in.skipBytes(n);
    }

    private void readBody(byte[] a, int pos, int end) {
        while (pos < end) {
            switch (state) {
                case BODY -> pos = lines(a, pos, end);
                case CHUNK_SIZE -> {
                    int lf = indexOfLf(a, pos, end);
                    int stop = lf < 0 ? end : lf;
                    for (int i = pos; i < stop && !chunkSizeDone; i++) {
                        int digit = Character.digit(a[i], 16);
                        if (digit >= 0) {
                            chunkSize = chunkSize * 16 + digit;
                        } else {
                            chunkSizeDone = true; // CR or a chunk extension
                        }
                    }
                    pos = stop;
                    if (lf >= 0) {
                        pos++;
                        long size = chunkSize;
                        chunkSize = 0;
                        chunkSizeDone = false;
                        if (size == 0) {
                            state = FAILED; // the last chunk: the server ended the stream
                            return;
                        }
                        chunkRemaining = size;
                        state = CHUNK_DATA;
                    }
                }
                case CHUNK_DATA -> {
                    int take = (int) Math.min(chunkRemaining, end - pos);
                    pos = lines(a, pos, pos + take);
                    chunkRemaining -= take;
                    if (chunkRemaining == 0) {
                        state = CHUNK_END;
                    }
                }
                case CHUNK_END -> {
                    if (a[pos++] == '\n') {
                        state = CHUNK_SIZE;
                    }
                }
                default -> {
                    return;
                }
            }
        }
    }

    private static int indexOfLf(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Consumes {@code a[pos, limit)}, handling every complete line and keeping an incomplete tail; returns limit. */
    private int lines(byte[] a, int pos, int limit) {
        while (pos < limit) {
            int lf = indexOfLf(a, pos, limit);
            if (lf < 0) {
                int length = limit - pos;
                if (partialLength + length > MAX_LINE) {
                    partialLength = 0; // a runaway line: not an event this tool sent
                }
                if (partial == null || partial.length < partialLength + length) {
                    byte[] grown = new byte[Math.max(256, Math.max(partialLength + length, 2 * partialLength))];
                    if (partial != null) {
                        System.arraycopy(partial, 0, grown, 0, partialLength);
                    }
                    partial = grown;
                }
                System.arraycopy(a, pos, partial, partialLength, length);
                partialLength += length;
                return limit;
            }
            if (partialLength > 0) {
                int length = lf - pos;
                if (partial.length < partialLength + length) {
                    partial = java.util.Arrays.copyOf(partial, partialLength + length);
                }
                System.arraycopy(a, pos, partial, partialLength, length);
                line(partial, 0, partialLength + length);
                partialLength = 0;
            } else {
                line(a, pos, lf);
            }
            pos = lf + 1;
        }
        return pos;
    }

    /** One line, without its LF, as bytes [from, to) of {@code b}. */
    private void line(byte[] b, int from, int to) {
        if (to > from && b[to - 1] == '\r') {
            to--;
        }
        if (to == from) {
            dispatch();
            return;
        }
        byte first = b[from];
        if (first == ':') {
            return; // a comment: the heartbeat
        }
        if (first == 'd' && startsWith(b, from, to, DATA)) {
            int at = from + DATA.length;
            if (at < to && b[at] == ' ') {
                at++;
            }
            hasData = true;
            parseData(b, at, to);
        } else if (first == 'i' && startsWith(b, from, to, ID)) {
            int at = from + ID.length;
            if (at < to && b[at] == ' ') {
                at++;
            }
            subscriber.lastEventId(b, at, to - at);
        }
        // event: and anything else are not needed
    }

    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ID = "id:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TIME = "{\"t\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEQ = ",\"s\":".getBytes(StandardCharsets.US_ASCII);

    /** The data this tool publishes starts {@code {"t":<micros>,"s":<seq>}; anything else gets -1s. */
    private void parseData(byte[] b, int from, int to) {
        publishMicros = -1;
        seq = -1;
        if (!startsWith(b, from, to, TIME)) {
            return;
        }
        int at = from + TIME.length;
        long t = 0;
        int digits = 0;
        for (; at < to && b[at] >= '0' && b[at] <= '9'; at++, digits++) {
            t = t * 10 + (b[at] - '0');
        }
        if (digits == 0) {
            return;
        }
        publishMicros = t;
        if (!startsWith(b, at, to, SEQ)) {
            return;
        }
        at += SEQ.length;
        long s = 0;
        digits = 0;
        for (; at < to && b[at] >= '0' && b[at] <= '9'; at++, digits++) {
            s = s * 10 + (b[at] - '0');
        }
        if (digits > 0) {
            seq = s;
        }
    }

    private void dispatch() {
        if (!hasData) {
            return;
        }
        hasData = false;
        subscriber.events++;
        subscriber.lastEventNanos = System.nanoTime();
        listener.onEvent(subscriber, publishMicros, seq);
        publishMicros = -1;
        seq = -1;
    }

    private static boolean startsWith(byte[] b, int from, int to, byte[] prefix) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(ByteBuf buf, String needle) {
        outer:
        for (int i = buf.readerIndex(); i <= buf.writerIndex() - needle.length(); i++) {
            for (int j = 0; j < needle.length(); j++) {
                if (buf.getByte(i + j) != needle.charAt(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        state = FAILED;
        opened.completeExceptionally(cause);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (head != null) {
            head.release();
            head = null;
        }
        IOException closed = new IOException("connection closed");
        opened.completeExceptionally(closed);
        if (!subscriber.dropping) {
            listener.onClose(subscriber, closed);
        }
        ctx.fireChannelInactive();
    }
}
