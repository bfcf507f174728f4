package dev.broker.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The one place that writes a complete JSON response: status, body, {@code Content-Length} and the
 * keep-alive-or-close decision. (CORS headers are added on the way out by {@link CorsHandler}.)
 */
public final class HttpResponses {

    private HttpResponses() {
    }

    /** Writes {@code body} (JSON, ownership taken) with the status; closes afterwards unless keep-alive. */
    public static void json(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, ByteBuf body) {
        send(ctx, keepAlive, jsonResponse(status, body));
    }

    /** Writes {@code {"error": message}} with the status. */
    public static void error(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String message) {
        send(ctx, keepAlive, errorResponse(ctx.alloc(), status, message));
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

    /** Writes an error and closes the connection: for requests that leave the stream in an unknown state. */
    public static void errorAndClose(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        error(ctx, false, status, message);
    }

    /** Writes a JSON object built by {@code fields} (between the braces). */
    public static void object(ChannelHandlerContext ctx, boolean keepAlive, Json.Writer fields) {
        json(ctx, keepAlive, HttpResponseStatus.OK, Json.write(ctx.alloc(), g -> {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        }));
    }

    /** Writes a response with no body (a preflight's 204). */
    public static void empty(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        send(ctx, keepAlive, response);
    }

    /** Writes a complete response; closes afterwards unless keep-alive. */
    public static void send(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
        if (keepAlive) {
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
