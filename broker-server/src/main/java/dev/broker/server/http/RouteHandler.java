package dev.broker.server.http;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;

/**
 * Maps a request to its {@link Route}. Answers itself: {@code 400} and a close for malformed HTTP (including a
 * request line or headers over the limits), {@code 404} for an unknown path, {@code 405} for a wrong method.
 */
@Sharable
public final class RouteHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    public RouteHandler() {
        super(FullHttpRequest.class, false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            request.release();
            HttpResponses.errorAndClose(ctx, HttpResponseStatus.BAD_REQUEST, malformedReason(request.decoderResult().cause()));
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        Route route = Route.forPath(query.path());
        boolean keepAlive = io.netty.handler.codec.http.HttpUtil.isKeepAlive(request);
        if (route == null) {
            request.release();
            HttpResponses.error(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "not found");
            return;
        }
        if (!route.method().equals(request.method())) {
            request.release();
            HttpResponses.error(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "method not allowed; use " + route.method().name());
            return;
        }
        ctx.fireChannelRead(new ApiRequest(route, request, query));
    }

    private static String malformedReason(Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            return "malformed HTTP request: " + cause.getMessage();
        }
        return "malformed HTTP request";
    }
}
