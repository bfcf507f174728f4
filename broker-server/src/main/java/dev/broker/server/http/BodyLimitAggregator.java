package dev.broker.server.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.util.ReferenceCountUtil;

/**
 * Aggregates a request into one {@code FullHttpRequest}, refusing bodies over the limit. The refusal is not written
 * here: a pipelined request before this one may still be waiting for its response, and responses leave in request
 * order. Instead the oversized request travels on, bodiless, with a failed decoder result
 * ({@link TooLongHttpContentException}); the {@link RequestSequencer} gives it a slot in turn and the router answers
 * {@code 413} through it with the contract's JSON error body and closes the connection (the rest of the oversized
 * body is still on the wire and reading it would cost what the limit is there to save).
 */
public final class BodyLimitAggregator extends HttpObjectAggregator {

    private final int maxBodyBytes;

    public BodyLimitAggregator(int maxBodyBytes) {
        super(maxBodyBytes, true);
        this.maxBodyBytes = maxBodyBytes;
    }

    /**
     * An {@code Expect: 100-continue} request announcing too large a body is refused like any other oversized
     * request (in turn, by the router), not with the aggregator's own bodiless 413.
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof HttpResponse refusal
                && refusal.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            ReferenceCountUtil.release(response);
            return null; // the aggregator then finds the Content-Length too large and calls handleOversizedMessage
        }
        return response;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        if (!(oversized instanceof HttpRequest request)) {
            ctx.close();
            return;
        }
        FullHttpRequest refused = new DefaultFullHttpRequest(request.protocolVersion(), request.method(),
                request.uri(), Unpooled.EMPTY_BUFFER, request.headers().copy(), EmptyHttpHeaders.INSTANCE);
        refused.setDecoderResult(DecoderResult.failure(
                new TooLongHttpContentException("request body is larger than " + maxBodyBytes + " bytes")));
        ctx.fireChannelRead(refused);
    }
}
