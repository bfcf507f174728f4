package dev.broker.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A complete response that knows which request it answers (its {@link ResponseSlot#ordinal()}), so that the
 * {@link RequestSequencer} can put it in its place. Built by {@link HttpResponses} only.
 */
final class SequencedResponse extends DefaultFullHttpResponse {

    private long ordinal = ResponseSlot.UNORDERED;

    SequencedResponse(HttpResponseStatus status, ByteBuf content) {
        super(HttpVersion.HTTP_1_1, status, content);
    }

    /** Takes over the content and headers of {@code response}, which must not be used afterwards. */
    SequencedResponse(FullHttpResponse response) {
        super(response.protocolVersion(), response.status(), response.content(), response.headers(),
                response.trailingHeaders());
    }

    long ordinal() {
        return ordinal;
    }

    SequencedResponse answering(long ordinal) {
        this.ordinal = ordinal;
        return this;
    }
}
