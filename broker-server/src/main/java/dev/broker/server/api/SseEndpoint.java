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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

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
 *
 * <p>With a store shared by several servers, an insert answered by another server may not have reached this
 * server's feed yet: the stream starts only once the feed has caught up with every insert answered before the
 * request (the package {@code sse}'s hand-off rule 1). The embedded store's feed is always caught up, and the stream
 * starts in the same task, as before. A feed that cannot catch up within {@link #CATCH_UP_SECONDS} (the shared
 * store is out of reach) is answered {@code 503} with {@code Retry-After}. The streams waiting meanwhile are bounded
 * by the connection limits: each holds its connection and one small callback.
 */
public final class SseEndpoint implements Endpoint {

    /** How long a new stream waits for the feed to catch up before it is answered 503. */
    static final long CATCH_UP_SECONDS = 5;
    /** Retry-After of that 503, in seconds. */
    static final String CATCH_UP_RETRY_AFTER_SECONDS = "2";

    private final SseHub hub;
    private final EventLog log;
    private final Supplier<CompletableFuture<Void>> feedCaughtUp;

    /** Streams over a store whose feed is always caught up (an embedded one). */
    public SseEndpoint(SseHub hub, EventLog log) {
        this(hub, log, null);
    }

    /**
     * @param feedCaughtUp the store feed's {@code caughtUp()}: completes once every event acknowledged before the
     *                     call has been handed to the feed's listeners; null for a feed that is always caught up
     */
    public SseEndpoint(SseHub hub, EventLog log, Supplier<CompletableFuture<Void>> feedCaughtUp) {
        this.hub = hub;
        this.log = log;
        this.feedCaughtUp = feedCaughtUp;
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) {
        Principal principal = request.principal();
        Long lastEventId = LastEventId.parse(request.http().headers().get("Last-Event-ID"));
        if (lastEventId == null) {
            lastEventId = LastEventId.parse(request.queryParameter("last_event_id"));
        }
        ResponseSlot slot = request.slot();
        Long resumeAfter = lastEventId;
        CompletableFuture<Void> caughtUp = feedCaughtUp == null ? null : feedCaughtUp.get();
        if (caughtUp == null || (caughtUp.isDone() && !caughtUp.isCompletedExceptionally())) {
            resume(ctx, slot, principal, resumeAfter);
            return;
        }
        // A copy: the timeout must not complete a future the store may share among callers.
        caughtUp.copy().orTimeout(CATCH_UP_SECONDS, TimeUnit.SECONDS).whenComplete((done, failure) -> {
            try {
                ctx.executor().execute(() -> {
                    if (failure == null) {
                        resume(ctx, slot, principal, resumeAfter);
                    } else {
                        Replies.unavailable(ctx, slot, "the event feed is not available at the moment, retry later",
                                CATCH_UP_RETRY_AFTER_SECONDS);
                    }
                });
            } catch (RejectedExecutionException shuttingDown) {
                ctx.channel().close();
            }
        });
    }

    /** Once the feed has caught up: the stream, from {@code lastEventId} if that history is still kept. */
    private void resume(ChannelHandlerContext ctx, ResponseSlot slot, Principal principal, Long lastEventId) {
        if (lastEventId == null) {
            stream(ctx, slot, principal, null);
            return;
        }
        // Decided before the stream opens: a resume into history that retention removed would replay with a
        // silent gap, so it gets the snapshot instead. (Without retention the answer is ready at once.)
        long resumeAfter = lastEventId;
        CompletableFuture<Long> retainedFrom = log.retainedFrom(principal.tenant());
        if (retainedFrom.isDone() && !retainedFrom.isCompletedExceptionally()) {
            stream(ctx, slot, principal, resumable(resumeAfter, retainedFrom.join()));
            return;
        }
        retainedFrom.whenCompleteAsync((from, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, "sse", failure);
            } else {
                stream(ctx, slot, principal, resumable(resumeAfter, from));
            }
        }, ctx.executor());
    }

    /** {@code lastEventId}, or null (the snapshot) when retention removed events of the tenant after it. */
    static Long resumable(long lastEventId, long retainedFrom) {
        return lastEventId >= retainedFrom - 1 ? lastEventId : null;
    }

    /** Answers 200 and opens the stream; on the channel's event loop. */
    private void stream(ChannelHandlerContext ctx, ResponseSlot slot, Principal principal, Long resumeAfter) {
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
