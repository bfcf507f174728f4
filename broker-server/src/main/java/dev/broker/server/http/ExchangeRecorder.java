package dev.broker.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;

/**
 * Watches requests and their answers go by, for the response metrics and the access log: sits right after the
 * {@link RequestSequencer}, so that it sees each dispatched request with its slot, and every answer (from the
 * handlers after it, the sequencer's own refusals, the exception handler's and the request deadline's last words)
 * before the sequencer puts it in order. Tells its {@link ExchangeListener} of each response head, and — only when
 * the listener wants them — of each finished exchange. It never changes or holds a message.
 *
 * <p>An SSE stream keeps this handler only when the listener wants exchanges ({@link #followsStream}): then it counts
 * the bytes written to the stream and reports the stream when the channel closes. Otherwise the stream's pipeline
 * drops it with the request handlers, so that streams pay nothing for it.
 *
 * <p>The route of a request is looked up from its target's path alone: the target itself (query string, escapes)
 * is never passed on.
 */
public final class ExchangeRecorder extends ChannelDuplexHandler {

    /** A request dispatched and not yet answered. */
    private record Pending(long ordinal, String method, String path, String route, String protocol, long startNanos) {
    }

    private final ExchangeListener listener;
    private final Map<String, String> routesByPath;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>(2);
    /** The stream this channel became, while followed (only when the listener wants exchanges). */
    private Pending stream;
    private int streamStatus;
    private long streamBytes;

    /**
     * @param routesByPath every route's path (as the router matches it) to its name; shared, never modified
     */
    public ExchangeRecorder(ExchangeListener listener, Map<String, String> routesByPath) {
        this.listener = listener;
        this.routesByPath = routesByPath;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof SlottedRequest slotted) {
            FullHttpRequest request = slotted.request();
            String path = routePath(request.uri());
            String protocol = ctx.channel() instanceof Http2StreamChannel ? "h2"
                    : HttpVersion.HTTP_1_0.equals(request.protocolVersion()) ? "HTTP/1.0" : "HTTP/1.1";
            pending.add(new Pending(slotted.slot().ordinal(), request.method().name(), path,
                    path == null ? ExchangeListener.NO_ROUTE : routesByPath.get(path), protocol, System.nanoTime()));
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (stream != null) {
            if (msg instanceof ByteBuf buf) {
                streamBytes += buf.readableBytes();
            } else if (msg instanceof ByteBufHolder holder) {
                streamBytes += holder.content().readableBytes();
            }
        } else if (msg instanceof SlottedResponse slotted) {
            answered(ctx, take(slotted.slot().ordinal()), slotted.response());
        } else if (msg instanceof HttpResponse response) {
            // Last words (the exception handler's, the deadline's): the oldest request's answer, if any is under way.
            answered(ctx, pending.poll(), response);
        }
        ctx.write(msg, promise);
    }

    private void answered(ChannelHandlerContext ctx, Pending request, HttpResponse response) {
        int status = response.status().code();
        listener.answered(request == null ? ExchangeListener.NO_ROUTE : request.route, status);
        if (response instanceof FullHttpResponse full) {
            if (request != null && listener.wantsExchanges()) {
                listener.completed(exchange(ctx, request, status, full.content().readableBytes(), false));
            }
            return;
        }
        // A head whose body follows unframed: the SSE stream, followed to its end only for the access log.
        if (request != null && listener.wantsExchanges()) {
            stream = request;
            streamStatus = status;
        }
    }

    /**
     * Whether this handler follows the stream the channel became (for the access log); when not, the stream's
     * pipeline drops it ({@code pipeline.StreamPipeline}).
     */
    public boolean followsStream() {
        return stream != null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (stream != null) {
            Pending ended = stream;
            stream = null;
            listener.completed(exchange(ctx, ended, streamStatus, streamBytes, true));
        }
        ctx.fireChannelInactive();
    }

    private Pending take(long ordinal) {
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending request = it.next();
            if (request.ordinal == ordinal) {
                it.remove();
                return request;
            }
        }
        return null;
    }

    private static Exchange exchange(ChannelHandlerContext ctx, Pending request, int status, long bytes,
                                     boolean stream) {
        return new Exchange(request.method, request.path, request.route, status, System.nanoTime() - request.startNanos,
                bytes, clientOf(ctx.channel().remoteAddress()), request.protocol, stream);
    }

    private static String clientOf(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : null;
    }

    /** The route path the target names (equal to a route's path), or null. */
    private String routePath(String uri) {
        int end = uri.indexOf('?');
        String raw = end < 0 ? uri : uri.substring(0, end);
        if (routesByPath.containsKey(raw)) {
            return raw;
        }
        try {
            // Escapes or the absolute form, as the router decodes them.
            String decoded = uri.startsWith("/") ? new QueryStringDecoder(uri).path()
                    : new QueryStringDecoder(new URI(uri)).path();
            return routesByPath.containsKey(decoded) ? decoded : null;
        } catch (Exception undecodable) {
            return null;
        }
    }
}
