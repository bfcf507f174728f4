package dev.broker.server.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.ReferenceCounted;

/**
 * A request the {@link RequestSequencer} dispatched, with the slot its response must be written through. Every
 * handler after the sequencer receives requests in this envelope and answers through {@link #slot()}. Counting
 * references is the request's: releasing the envelope releases the request.
 */
public final class SlottedRequest implements ReferenceCounted {

    private final FullHttpRequest request;
    private final ResponseSlot slot;

    public SlottedRequest(FullHttpRequest request, ResponseSlot slot) {
        this.request = request;
        this.slot = slot;
    }

    public FullHttpRequest request() {
        return request;
    }

    public ResponseSlot slot() {
        return slot;
    }

    @Override
    public int refCnt() {
        return request.refCnt();
    }

    @Override
    public SlottedRequest retain() {
        request.retain();
        return this;
    }

    @Override
    public SlottedRequest retain(int increment) {
        request.retain(increment);
        return this;
    }

    @Override
    public SlottedRequest touch() {
        request.touch();
        return this;
    }

    @Override
    public SlottedRequest touch(Object hint) {
        request.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return request.release();
    }

    @Override
    public boolean release(int decrement) {
        return request.release(decrement);
    }

    @Override
    public String toString() {
        return "SlottedRequest(" + slot + ", " + request.method() + " " + request.uri() + ")";
    }
}
