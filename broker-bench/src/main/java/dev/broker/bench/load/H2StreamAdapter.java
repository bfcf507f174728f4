package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * Lets the HTTP/1.1 {@link SseHandler} run on an HTTP/2 stream, so that both protocols share one parser: the raw
 * HTTP/1.1 request it writes becomes a HEADERS frame (request line → pseudo-headers, {@code Host} →
 * {@code :authority}, names lower-cased, connection-specific headers dropped), the response's HEADERS frame
 * becomes a status line, and DATA frames pass on as the (close-delimited) body. The stream's flow-control window
 * is returned by the child channel as its data is read.
 */
final class H2StreamAdapter extends ChannelDuplexHandler {

    private static final Set<String> CONNECTION_SPECIFIC = Set.of("connection", "keep-alive", "transfer-encoding", "upgrade");

    private boolean headSeen;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf request)) {
            ctx.write(msg, promise);
            return;
        }
        Http2Headers headers;
        try {
            headers = headers(request.toString(StandardCharsets.ISO_8859_1));
        } finally {
            request.release();
        }
        ctx.write(new DefaultHttp2HeadersFrame(headers, true), promise);
    }

    /** The HEADERS of a body-less HTTP/1.1 request. */
    static Http2Headers headers(String request) {
        String[] lines = request.split("\r\n");
        String[] requestLine = lines[0].split(" ");
        Http2Headers headers = new DefaultHttp2Headers()
                .method(requestLine[0])
                .path(requestLine[1])
                .scheme("https");
        for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++) {
            int colon = lines[i].indexOf(':');
            String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim();
            if (name.equals("host")) {
                headers.authority(value);
            } else if (!CONNECTION_SPECIFIC.contains(name)) {
                headers.add(name, value);
            }
        }
        return headers;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame frame) {
            if (!headSeen) {
                headSeen = true;
                CharSequence status = frame.headers().status();
                ctx.fireChannelRead(Unpooled.copiedBuffer("HTTP/1.1 " + status + " h2\r\n\r\n", StandardCharsets.ISO_8859_1));
            }
            if (frame.isEndStream()) {
                ctx.close();
            }
        } else if (msg instanceof Http2DataFrame frame) {
            boolean end = frame.isEndStream();
            ByteBuf content = frame.content();
            if (content.isReadable()) {
                ctx.fireChannelRead(content.retain());
            }
            frame.release();
            if (end) {
                ctx.close();
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }
}
