package dev.broker.server.http;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;

/**
 * A response on its way to the {@link RequestSequencer}, with the slot of the request it answers; the sequencer
 * unwraps it and writes the response in its turn. Written by {@link ResponseSlot} only. Counting references is the
 * response's: releasing the envelope (a write that fails before it reaches the sequencer) releases the response.
 */
final class SlottedResponse implements ReferenceCounted {

    private final ResponseSlot slot;
    private final HttpResponse response;

    SlottedResponse(ResponseSlot slot, HttpResponse response) {
        this.slot = slot;
        this.response = response;
    }

    ResponseSlot slot() {
        return slot;
    }

    HttpResponse response() {
        return response;
    }

    @Override
    public int refCnt() {
        return response instanceof ReferenceCounted counted ? counted.refCnt() : 1;
    }

    @Override
    public SlottedResponse retain() {
        ReferenceCountUtil.retain(response);
        return this;
    }

    @Override
    public SlottedResponse retain(int increment) {
        ReferenceCountUtil.retain(response, increment);
        return this;
    }

    @Override
    public SlottedResponse touch() {
        ReferenceCountUtil.touch(response);
        return this;
    }

    @Override
    public SlottedResponse touch(Object hint) {
        ReferenceCountUtil.touch(response, hint);
        return this;
    }

    @Override
    public boolean release() {
        return ReferenceCountUtil.release(response);
    }

    @Override
    public boolean release(int decrement) {
        return ReferenceCountUtil.release(response, decrement);
    }

    @Override
    public String toString() {
        return "SlottedResponse(" + slot + ", " + response + ")";
    }
}
