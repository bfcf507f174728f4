package dev.broker.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The one place that writes a complete JSON response: status, body, {@code Content-Length} and the
 * keep-alive-or-close decision. (CORS headers are added on the way out by {@link CorsHandler}.) Each response is
 * written through its request's {@link ResponseSlot}, so that the {@link RequestSequencer} puts it in request order;
 * only {@link #lastWords} answers no request in particular.
 */
public final class HttpResponses {

    private HttpResponses() {
    }

    /** Writes {@code body} (JSON, ownership taken) with the status; closes afterwards unless keep-alive. */
    public static void json(ChannelHandlerContext ctx, ResponseSlot slot, HttpResponseStatus status, ByteBuf body) {
        send(ctx, slot, jsonResponse(status, body));
    }

    /** Writes {@code {"error": message}} with the status. */
    public static void error(ChannelHandlerContext ctx, ResponseSlot slot, HttpResponseStatus status, String message) {
        send(ctx, slot, errorResponse(ctx.alloc(), status, message));
    }

    /** A response with the body {@code {"error": message}}, for handlers that hand a response to someone else. */
    public static FullHttpResponse errorResponse(ByteBufAllocator alloc, HttpResponseStatus status, String message) {
        return jsonResponse(status, Json.write(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        }));
    }

    private static FullHttpResponse jsonResponse(HttpResponseStatus status, ByteBuf body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return response;
    }

    /** How long a connection refused with {@link #errorAndClose} may go on sending before it is closed anyway. */
    static final long LINGER_MILLIS = 2_000;

    /**
     * Answers the request with an error and closes the connection: for requests that leave the stream in an unknown
     * state (malformed HTTP, a body over the limit). The close lingers: closing a socket with unread input (the rest
     * of an oversized body, say) resets the connection, and the reset can destroy the response before the client has
     * read it. So the output is shut down after the response (the client reads it, then end of stream) and whatever
     * the client still sends is read and dropped until it closes or {@link #LINGER_MILLIS} pass.
     */
    public static void errorAndClose(ChannelHandlerContext ctx, ResponseSlot slot, HttpResponseStatus status,
                                     String message) {
        FullHttpResponse response = errorResponse(ctx.alloc(), status, message);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        slot.closing().writeAndFlush(ctx, response).addListener(LINGERING_CLOSE);
    }

    /**
     * Writes an error that ends the connection, in no request's slot: the exception handler's, which cannot tell
     * which request failed. The {@link RequestSequencer} gives it to the oldest request not yet answered (or lets it
     * out at once when none is under way) and abandons the rest. Closes like {@link #errorAndClose}.
     */
    public static void lastWords(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        lastWords(ctx, ctx.alloc(), status, message);
    }

    /** {@link #lastWords(ChannelHandlerContext, HttpResponseStatus, String)} written from {@code out}. */
    public static void lastWords(ChannelOutboundInvoker out, ByteBufAllocator alloc, HttpResponseStatus status,
                                 String message) {
        FullHttpResponse response = errorResponse(alloc, status, message);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        out.writeAndFlush(response).addListener(LINGERING_CLOSE);
    }

    private static final ChannelFutureListener LINGERING_CLOSE = written -> {
        Channel channel = written.channel();
        if (!written.isSuccess() || !channel.isActive() || !(channel instanceof DuplexChannel duplex)
                || channel.pipeline().get(SslHandler.class) != null) {
            channel.close();
            return;
        }
        channel.pipeline().addFirst(DiscardInbound.INSTANCE);
        channel.config().setAutoRead(true);
        duplex.shutdownOutput();
        channel.eventLoop().schedule((Runnable) channel::close, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    };

    /** Drops everything read; the channel closes when the peer does (half-closure is not allowed). */
    @Sharable
    private static final class DiscardInbound extends ChannelInboundHandlerAdapter {
        static final DiscardInbound INSTANCE = new DiscardInbound();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Writes a JSON object built by {@code fields} (between the braces). */
    public static void object(ChannelHandlerContext ctx, ResponseSlot slot, Json.Writer fields) {
        json(ctx, slot, HttpResponseStatus.OK, Json.write(ctx.alloc(), g -> {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        }));
    }

    /** Writes a response with no body (a preflight's 204). */
    public static void empty(ChannelHandlerContext ctx, ResponseSlot slot, FullHttpResponse response) {
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        send(ctx, slot, response);
    }

    /**
     * Writes a complete response (ownership taken) into its slot; closes afterwards unless keep-alive. {@code out}
     * is the writer's context, or the channel (the sequencer's refusals start at the tail, to pass CORS).
     */
    public static void send(ChannelOutboundInvoker out, ResponseSlot slot, FullHttpResponse response) {
        if (slot.keepAlive()) {
            // Redundant for HTTP/1.1, but an HTTP/1.0 client keeps the connection only when told to.
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            slot.writeAndFlush(out, response, out.voidPromise());
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            slot.writeAndFlush(out, response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
