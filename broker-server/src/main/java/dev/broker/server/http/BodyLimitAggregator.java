package dev.broker.server.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;

/**
 * Aggregates a request into one {@code FullHttpRequest}, refusing bodies over the limit with a {@code 413} that
 * carries the contract's JSON error body. The connection is closed after a 413: the rest of the oversized body
 * is still on the wire and reading it would cost what the limit is there to save.
 */
public final class BodyLimitAggregator extends HttpObjectAggregator {

    private final int maxBodyBytes;

    public BodyLimitAggregator(int maxBodyBytes) {
        super(maxBodyBytes, true);
        this.maxBodyBytes = maxBodyBytes;
    }

    /** An {@code Expect: 100-continue} request announcing too large a body gets the same JSON 413, then a close. */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof HttpResponse refusal
                && refusal.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            ReferenceCountUtil.release(response);
            FullHttpResponse tooLarge = HttpResponses.errorResponse(pipeline.channel().alloc(),
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, tooLargeMessage());
            tooLarge.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            return tooLarge;
        }
        return response;
    }

    private String tooLargeMessage() {
        return "request body is larger than " + maxBodyBytes + " bytes";
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        HttpResponses.errorAndClose(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                tooLargeMessage());
    }
}
