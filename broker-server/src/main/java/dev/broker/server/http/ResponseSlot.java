package dev.broker.server.http;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Where the response to one request goes: the request's place in its connection's response order (given by the
 * {@link RequestSequencer} when it dispatched the request) and whether the connection stays open afterwards. An
 * endpoint that answers later, from a future, answers through the slot, so that the sequencer can hold the response
 * until every earlier one has left.
 *
 * @param ordinal   the request's place on its connection, from 0; {@link #UNORDERED} where no sequencer dispatched it
 * @param keepAlive whether the connection stays open after the response (decided by the request's version and headers)
 */
public record ResponseSlot(long ordinal, boolean keepAlive) {

    /** No place in any order: written as it comes (a handler tested without a sequencer). */
    public static final long UNORDERED = -1;

    /** The slot of {@code request}, which the sequencer of {@code channel} is dispatching right now. */
    public static ResponseSlot of(Channel channel, HttpRequest request) {
        return new ResponseSlot(RequestSequencer.dispatching(channel), HttpUtil.isKeepAlive(request));
    }

    /** The same slot, with the connection closed after the response. */
    public ResponseSlot closing() {
        return keepAlive ? new ResponseSlot(ordinal, false) : this;
    }
}
