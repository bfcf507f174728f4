package dev.broker.server.sse;

import dev.broker.server.api.Endpoint;
import dev.broker.server.auth.Principal;
import dev.broker.server.http.ApiRequest;
import dev.broker.server.http.HandlerNames;
import dev.broker.server.http2.Http2IdleTimeout;
import dev.broker.server.http2.Http2SseEncoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * {@code GET /sse}: answers {@code 200 text/event-stream}, then turns the channel into a stream.
 *
 * <p>HTTP/1.1: the response has neither a length nor chunked encoding (its end is the connection's close, hence
 * {@code Connection: close}), so once the head is written the HTTP handlers leave the pipeline and shared event
 * frames go to the socket as they are — the way Netty's websocket handshake swaps its HTTP handlers out.
 *
 * <p>HTTP/2: the channel is the request's stream (a child of the connection), and the response carries no
 * {@code Connection} header (HTTP/2 forbids it). The request handlers leave the same way, and the stream's codec
 * gives way to {@link Http2SseEncoder}, which wraps the same shared frames in DATA frames. The other streams of
 * the connection carry on: requests, and more SSE streams.
 */
public final class SseEndpoint implements Endpoint {

    private static final String[] HTTP_HANDLERS = {
        HandlerNames.IDLE_TIMEOUT, HandlerNames.FLUSH_CONSOLIDATION, HandlerNames.HTTP_CODEC, HandlerNames.CORS,
        HandlerNames.AGGREGATOR, HandlerNames.SEQUENCER, HandlerNames.ROUTER, HandlerNames.AUTH, HandlerNames.API,
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
        boolean http2 = ctx.channel() instanceof Http2StreamChannel;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set("X-Accel-Buffering", "no");
        if (!http2) {
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        request.slot().writeAndFlush(ctx, head).addListener((ChannelFutureListener) written -> {
            Channel channel = written.channel();
            if (!written.isSuccess() || !channel.isActive()) {
                channel.close();
                return;
            }
            ChannelPipeline pipeline = channel.pipeline();
            pipeline.addBefore(HandlerNames.EXCEPTIONS, HandlerNames.SSE_STREAM, SseStreamHandler.INSTANCE);
            if (http2) {
                pipeline.replace(HandlerNames.HTTP_CODEC, HandlerNames.SSE_H2_ENCODER, Http2SseEncoder.INSTANCE);
                Http2IdleTimeout.holdOpen(channel);
            }
            for (String name : HTTP_HANDLERS) {
                if (pipeline.get(name) != null) {
                    pipeline.remove(name);
                }
            }
            hub.open(channel, principal, resumeAfter);
        });
    }
}
