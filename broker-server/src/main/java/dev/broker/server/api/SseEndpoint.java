package dev.broker.server.api;

import dev.broker.server.auth.Principal;
import dev.broker.server.http.ResponseSlot;
import dev.broker.server.pipeline.StreamPipeline;
import dev.broker.server.sse.SseHub;
import dev.broker.server.sse.SseStreamHandler;
import dev.broker.storage.EventLog;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.concurrent.CompletableFuture;

/**
 * {@code GET /sse}: answers {@code 200 text/event-stream} through the request's slot, then turns the channel into a
 * stream ({@link StreamPipeline}) and opens it on the {@link SseHub}. A {@code Last-Event-ID} below the tenant's
 * retained history ({@link EventLog#retainedFrom}) is dropped first: the stream starts from the snapshot.
 *
 * <p>HTTP/1.1: the response has neither a length nor chunked encoding (its end is the connection's close, hence
 * {@code Connection: close}), so once the head is written the request handlers leave the pipeline and shared event
 * frames go to the socket as they are. HTTP/2: the channel is the request's stream (a child of the connection),
 * and the response carries no {@code Connection} header (HTTP/2 forbids it); the shared frames travel in DATA
 * frames, and the connection's other streams carry on.
 */
public final class SseEndpoint implements Endpoint {

    private final SseHub hub;
    private final EventLog log;

    public SseEndpoint(SseHub hub, EventLog log) {
        this.hub = hub;
        this.log = log;
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) {
        Principal principal = request.principal();
        Long lastEventId = LastEventId.parse(request.http().headers().get("Last-Event-ID"));
        if (lastEventId == null) {
            lastEventId = LastEventId.parse(request.queryParameter("last_event_id"));
        }
        ResponseSlot slot = request.slot();
        if (lastEventId == null) {
            open(ctx, slot, principal, null);
            return;
        }
        // Decided before the stream opens: a resume into history that retention removed would replay with a
        // silent gap, so it gets the snapshot instead. (Without retention the answer is ready at once.)
        long resumeAfter = lastEventId;
        CompletableFuture<Long> retainedFrom = log.retainedFrom(principal.tenant());
        if (retainedFrom.isDone() && !retainedFrom.isCompletedExceptionally()) {
            open(ctx, slot, principal, resumable(resumeAfter, retainedFrom.join()));
            return;
        }
        retainedFrom.whenCompleteAsync((from, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, "sse", failure);
            } else {
                open(ctx, slot, principal, resumable(resumeAfter, from));
            }
        }, ctx.executor());
    }

    /** {@code lastEventId}, or null (the snapshot) when retention removed events of the tenant after it. */
    static Long resumable(long lastEventId, long retainedFrom) {
        return lastEventId >= retainedFrom - 1 ? lastEventId : null;
    }

    private void open(ChannelHandlerContext ctx, ResponseSlot slot, Principal principal, Long resumeAfter) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set("X-Accel-Buffering", "no");
        if (!(ctx.channel() instanceof Http2StreamChannel)) {
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        slot.writeAndFlush(ctx, head).addListener((ChannelFutureListener) written -> {
            Channel channel = written.channel();
            if (!written.isSuccess() || !channel.isActive()) {
                channel.close();
                return;
            }
            StreamPipeline.install(channel, SseStreamHandler.INSTANCE);
            hub.open(channel, principal, resumeAfter);
        });
    }
}
