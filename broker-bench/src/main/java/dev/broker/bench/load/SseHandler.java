package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ByteProcessor;
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
    private ByteBuf partial;

    // The event being assembled.
    private boolean hasData;
    private long publishMicros = -1;
    private long seq = -1;

    private final ByteProcessor findNewline = ByteProcessor.FIND_LF;

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
        while (in.isReadable()) {
            switch (state) {
                case BODY -> {
                    lines(in, in.writerIndex());
                }
                case CHUNK_SIZE -> {
                    int lf = in.forEachByte(findNewline);
                    int end = lf < 0 ? in.writerIndex() : lf;
                    for (int i = in.readerIndex(); i < end && !chunkSizeDone; i++) {
                        int digit = Character.digit(in.getByte(i), 16);
                        if (digit >= 0) {
                            chunkSize = chunkSize * 16 + digit;
                        } else {
                            chunkSizeDone = true; // CR or a chunk extension
                        }
                    }
                    in.readerIndex(end);
                    if (lf >= 0) {
                        in.skipBytes(1);
                        long size = chunkSize;
                        chunkSize = 0;
                        chunkSizeDone = false;
                        if (size == 0) {
                            state = FAILED; // the last chunk: the server ended the stream
                            in.skipBytes(in.readableBytes());
                            return;
                        }
                        chunkRemaining = size;
                        state = CHUNK_DATA;
                    }
                }
                case CHUNK_DATA -> {
                    int take = (int) Math.min(chunkRemaining, in.readableBytes());
                    lines(in, in.readerIndex() + take);
                    chunkRemaining -= take;
                    if (chunkRemaining == 0) {
                        state = CHUNK_END;
                    }
                }
                case CHUNK_END -> {
                    byte b = in.readByte();
                    if (b == '\n') {
                        state = CHUNK_SIZE;
                    }
                }
                default -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    /** Consumes {@code in} up to {@code limit}, handling every complete line and keeping an incomplete tail. */
    private void lines(ByteBuf in, int limit) {
        while (in.readerIndex() < limit) {
            int start = in.readerIndex();
            int lf = in.forEachByte(start, limit - start, findNewline);
            if (lf < 0) {
                if (partial == null) {
                    partial = Unpooled.buffer(256);
                }
                if (partial.readableBytes() + (limit - start) > MAX_LINE) {
                    partial.clear(); // a runaway line: not an event this tool sent
                }
                partial.writeBytes(in, start, limit - start);
                in.readerIndex(limit);
                return;
            }
            if (partial != null && partial.isReadable()) {
                partial.writeBytes(in, start, lf - start);
                line(partial, partial.readerIndex(), partial.writerIndex());
                partial.clear();
            } else {
                line(in, start, lf);
            }
            in.readerIndex(lf + 1);
        }
    }

    /** One line, without its LF, as bytes [from, to) of {@code buf}. */
    private void line(ByteBuf buf, int from, int to) {
        if (to > from && buf.getByte(to - 1) == '\r') {
            to--;
        }
        if (to == from) {
            dispatch();
            return;
        }
        byte first = buf.getByte(from);
        if (first == ':') {
            return; // a comment: the heartbeat
        }
        if (first == 'd' && startsWith(buf, from, to, "data:")) {
            int at = from + 5;
            if (at < to && buf.getByte(at) == ' ') {
                at++;
            }
            hasData = true;
            parseData(buf, at, to);
        } else if (first == 'i' && startsWith(buf, from, to, "id:")) {
            int at = from + 3;
            if (at < to && buf.getByte(at) == ' ') {
                at++;
            }
            subscriber.lastEventId = buf.toString(at, to - at, StandardCharsets.US_ASCII);
        }
        // event: and anything else are not needed
    }

    /** The data this tool publishes starts {@code {"t":<micros>,"s":<seq>}; anything else gets -1s. */
    private void parseData(ByteBuf buf, int from, int to) {
        publishMicros = -1;
        seq = -1;
        if (!startsWith(buf, from, to, "{\"t\":")) {
            return;
        }
        int at = from + 5;
        long t = 0;
        int digits = 0;
        for (; at < to; at++, digits++) {
            byte b = buf.getByte(at);
            if (b < '0' || b > '9') {
                break;
            }
            t = t * 10 + (b - '0');
        }
        if (digits == 0) {
            return;
        }
        publishMicros = t;
        if (!startsWith(buf, at, to, ",\"s\":")) {
            return;
        }
        at += 5;
        long s = 0;
        digits = 0;
        for (; at < to; at++, digits++) {
            byte b = buf.getByte(at);
            if (b < '0' || b > '9') {
                break;
            }
            s = s * 10 + (b - '0');
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

    private static boolean startsWith(ByteBuf buf, int from, int to, String prefix) {
        if (to - from < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (buf.getByte(from + i) != prefix.charAt(i)) {
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
        if (partial != null) {
            partial.release();
            partial = null;
        }
        IOException closed = new IOException("connection closed");
        opened.completeExceptionally(closed);
        if (!subscriber.dropping) {
            listener.onClose(subscriber, closed);
        }
        ctx.fireChannelInactive();
    }
}
