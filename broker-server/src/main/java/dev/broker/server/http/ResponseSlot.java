package dev.broker.server.http;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Where the response to one request goes: the request's place in its connection's response order and whether the
 * connection stays open afterwards. The {@link RequestSequencer} makes one for each request it dispatches and hands
 * it downstream with the request ({@link SlottedRequest}); whoever answers the request — at once, or later from a
 * future — writes through it, and the sequencer holds the response until every earlier one has left. Complete JSON
 * responses go through {@link HttpResponses}, which also decides {@code Connection}; {@link #writeAndFlush} is for
 * a response whose body follows unframed (the SSE head).
 */
public final class ResponseSlot {

    private final long ordinal;
    private final boolean keepAlive;

    /**
     * @param ordinal   the request's place on its connection, from 0
     * @param keepAlive whether the connection stays open after the response (from the request's version and headers)
     */
    ResponseSlot(long ordinal, boolean keepAlive) {
        this.ordinal = ordinal;
        this.keepAlive = keepAlive;
    }

    long ordinal() {
        return ordinal;
    }

    /** Whether the connection stays open after the response. */
    public boolean keepAlive() {
        return keepAlive;
    }

    /** The same slot, with the connection closed after the response. */
    public ResponseSlot closing() {
        return keepAlive ? new ResponseSlot(ordinal, false) : this;
    }

    /**
     * Writes {@code response} (ownership taken) as the answer to this slot's request, and flushes. {@code out} is
     * the writer's context, or the channel (to pass every handler, as the sequencer's own refusals do).
     */
    public ChannelFuture writeAndFlush(ChannelOutboundInvoker out, HttpResponse response) {
        return out.writeAndFlush(new SlottedResponse(this, response));
    }

    void writeAndFlush(ChannelOutboundInvoker out, HttpResponse response, ChannelPromise promise) {
        out.writeAndFlush(new SlottedResponse(this, response), promise);
    }

    @Override
    public String toString() {
        return "slot " + ordinal + (keepAlive ? "" : ", closing");
    }
}
