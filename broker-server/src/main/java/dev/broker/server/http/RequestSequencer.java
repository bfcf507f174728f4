package dev.broker.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One request at a time per connection. Handlers answer asynchronously (password hashing, disk), so a pipelined
 * request waits here until the previous response is written; responses therefore leave in request order. While a
 * request is queued the channel stops reading, which bounds what one connection can make the server hold.
 * Also counts requests in flight for graceful shutdown, and refuses new ones with 503 once shutdown began.
 */
public final class RequestSequencer extends ChannelDuplexHandler {

    private static final int MAX_QUEUED = 16;

    private final InFlightRequests inFlight;
    private ArrayDeque<FullHttpRequest> queued;
    private boolean busy;

    public RequestSequencer(InFlightRequests inFlight) {
        this.inFlight = inFlight;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!busy) {
            dispatch(ctx, request);
            return;
        }
        if (queued == null) {
            queued = new ArrayDeque<>(4);
        }
        if (queued.size() >= MAX_QUEUED) {
            request.release();
            ctx.close();
            return;
        }
        queued.add(request);
        ctx.channel().config().setAutoRead(false);
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest request) {
        busy = true;
        inFlight.begin();
        if (inFlight.draining()) {
            request.release();
            // Written from the tail, like every other response: through CORS, and through write() below, which
            // ends the exchange it began.
            FullHttpResponse refusal = HttpResponses.errorResponse(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "server is shutting down");
            refusal.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.channel().writeAndFlush(refusal).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireChannelRead(request);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean completesResponse = busy && msg instanceof LastHttpContent;
        ctx.write(msg, promise);
        if (completesResponse) {
            busy = false;
            inFlight.end();
            // Dispatch the next request from a fresh task: we may be deep inside the previous one's write.
            ctx.executor().execute(() -> next(ctx));
        }
    }

    private void next(ChannelHandlerContext ctx) {
        if (busy || ctx.isRemoved()) {
            return;
        }
        FullHttpRequest request = queued == null ? null : queued.poll();
        if (request != null) {
            dispatch(ctx, request);
        } else {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (busy) {
            busy = false;
            inFlight.end();
        }
        if (queued != null) {
            queued.forEach(ReferenceCountUtil::release);
            queued = null;
        }
    }
}
