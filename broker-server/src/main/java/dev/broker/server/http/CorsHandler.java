package dev.broker.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * CORS. Sits right after the {@link RequestSequencer}, so that a pipelined preflight is answered in turn (through
 * its slot), and above every handler that answers a request (router, auth, endpoints, exception handler): each
 * response gets {@code Access-Control-Allow-Origin}. Answers {@code OPTIONS} preflights with {@code 204} and the
 * allowed methods and headers, releasing any body the preflight carried.
 */
public final class CorsHandler extends ChannelDuplexHandler {

    static final String ALLOWED_METHODS = "GET, POST, OPTIONS";
    static final String ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID, Cache-Control";
    static final String MAX_AGE_SECONDS = "86400";

    private final String origin;

    public CorsHandler(String origin) {
        this.origin = origin;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof SlottedRequest slotted && isPreflight(slotted.request())) {
            ResponseSlot slot = slotted.slot();
            slotted.release();
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
            response.headers()
                    .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS)
                    .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS)
                    .set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS);
            allowOrigin(response);
            // Written from this handler's context, so it does not pass through write() below.
            HttpResponses.empty(ctx, slot, response);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /** A well-formed {@code OPTIONS}; a malformed one is left for the router's 400. */
    private static boolean isPreflight(FullHttpRequest request) {
        return HttpMethod.OPTIONS.equals(request.method()) && request.decoderResult().isSuccess();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof SlottedResponse slotted) {
            allowOrigin(slotted.response());
        } else if (msg instanceof HttpResponse response) {
            allowOrigin(response);
        }
        ctx.write(msg, promise);
    }

    private void allowOrigin(HttpResponse response) {
        response.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if (!"*".equals(origin)) {
            response.headers().set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
        }
    }
}
