package dev.broker.server.api;

import dev.broker.server.http.BodyLimitAggregator;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import dev.broker.server.http.SlottedRequest;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpContentException;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * Maps a dispatched request to its {@link Route} and passes it on as an {@link ApiRequest}, with its slot. Answers
 * itself, through the request's slot: {@code 400} and a close for malformed HTTP (including a request line or
 * headers over the limits), {@code 400} for a target whose percent-escapes do not decode, {@code 413} and a close for a body over the limit (flagged by the
 * {@link BodyLimitAggregator}), {@code 404} for an unknown path, {@code 405} for a wrong method.
 */
@Sharable
public final class RouteHandler extends SimpleChannelInboundHandler<SlottedRequest> {

    public RouteHandler() {
        super(SlottedRequest.class, false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, SlottedRequest slotted) {
        FullHttpRequest request = slotted.request();
        ResponseSlot slot = slotted.slot();
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            request.release();
            if (cause instanceof TooLongHttpContentException) {
                HttpResponses.errorAndClose(ctx, slot, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, cause.getMessage());
            } else {
                HttpResponses.errorAndClose(ctx, slot, HttpResponseStatus.BAD_REQUEST, malformedReason(cause));
            }
            return;
        }
        QueryStringDecoder query = decodeTarget(request.uri());
        Route route;
        try {
            // Decoded now, not when an endpoint first asks: a bad percent-escape is the client's error, a 400 here,
            // and its message (which quotes the whole target, access token and all) goes nowhere.
            route = Route.forPath(query.path());
            query.parameters();
        } catch (IllegalArgumentException badEscape) {
            request.release();
            HttpResponses.error(ctx, slot, HttpResponseStatus.BAD_REQUEST,
                    "malformed request target: a percent-escape or its UTF-8 is invalid");
            return;
        }
        if (route == null) {
            request.release();
            HttpResponses.error(ctx, slot, HttpResponseStatus.NOT_FOUND, "not found");
            return;
        }
        if (!route.accepts(request.method())) {
            request.release();
            FullHttpResponse response = HttpResponses.errorResponse(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "method not allowed; use " + route.allowedMethods());
            response.headers().set(HttpHeaderNames.ALLOW, route.allowedMethods());
            HttpResponses.send(ctx, slot, response);
            return;
        }
        ctx.fireChannelRead(new ApiRequest(route, request, query, slot));
    }

    /** The path and query of the request target; the absolute form ({@code http://host/path}) too (RFC 9112 §3.2.2). */
    private static QueryStringDecoder decodeTarget(String uri) {
        if (!uri.startsWith("/")) {
            try {
                URI absolute = new URI(uri);
                if (absolute.isAbsolute() && absolute.getRawPath() != null) {
                    return new QueryStringDecoder(absolute);
                }
            } catch (URISyntaxException notAbsolute) {
                // fall through: routed as it is, which finds nothing
            }
        }
        return new QueryStringDecoder(uri);
    }

    private static String malformedReason(Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            return "malformed HTTP request: " + cause.getMessage();
        }
        return "malformed HTTP request";
    }
}
