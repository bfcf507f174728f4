package dev.broker.server.sse;

import dev.broker.server.api.Endpoint;
import dev.broker.server.auth.Principal;
import dev.broker.server.http.ApiRequest;
import dev.broker.server.http.HandlerNames;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * {@code GET /sse}: answers {@code 200 text/event-stream}, then turns the connection into a stream. The
 * response has neither a length nor chunked encoding (its end is the connection's close), so once the head is
 * written the HTTP handlers leave the pipeline and shared event frames go to the socket as they are — the way
 * Netty's websocket handshake swaps its HTTP handlers out.
 */
public final class SseEndpoint implements Endpoint {

    private static final String[] HTTP_HANDLERS = {
        HandlerNames.IDLE_TIMEOUT, HandlerNames.HTTP_CODEC, HandlerNames.CORS, HandlerNames.AGGREGATOR,
        HandlerNames.SEQUENCER, HandlerNames.ROUTER, HandlerNames.AUTH, HandlerNames.API,
    };

    private final SseHub hub;

    public SseEndpoint(SseHub hub) {
        this.hub = hub;
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) {
        Principal principal = request.principal();
        Long lastEventId = LastEventId.parse(request.http().headers().get("Last-Event-ID"));
        if (lastEventId == null) {
            lastEventId = LastEventId.parse(request.queryParameter("last_event_id"));
        }
        Long resumeAfter = lastEventId;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set("X-Accel-Buffering", "no")
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(head).addListener((ChannelFutureListener) written -> {
            if (!written.isSuccess() || !written.channel().isActive()) {
                written.channel().close();
                return;
            }
            ChannelPipeline pipeline = written.channel().pipeline();
            pipeline.addBefore(HandlerNames.EXCEPTIONS, HandlerNames.SSE_STREAM, new SseStreamHandler());
            for (String name : HTTP_HANDLERS) {
                if (pipeline.get(name) != null) {
                    pipeline.remove(name);
                }
            }
            hub.open(written.channel(), principal, resumeAfter);
        });
    }
}
