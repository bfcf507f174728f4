package dev.broker.server.api;

import dev.broker.server.auth.Principal;
import dev.broker.server.http.ResponseSlot;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import java.util.List;

/**
 * A routed request on its way to an endpoint: the aggregated HTTP request, its route, its query parameters and,
 * once authenticated, the caller. Releasing it releases the HTTP request.
 */
public final class ApiRequest extends AbstractReferenceCounted {

    private final Route route;
    private final FullHttpRequest http;
    private final QueryStringDecoder query;
    private final ResponseSlot slot;
    private Principal principal;

    ApiRequest(Route route, FullHttpRequest http, QueryStringDecoder query, ResponseSlot slot) {
        this.route = route;
        this.http = http;
        this.query = query;
        this.slot = slot;
    }

    public Route route() {
        return route;
    }

    public FullHttpRequest http() {
        return http;
    }

    public ByteBuf body() {
        return http.content();
    }

    /**
     * Where the response goes, given by the sequencer: this request's place in the connection's response order, and
     * whether the connection stays open afterwards. Still valid once the request is released: endpoints that answer
     * later keep it.
     */
    public ResponseSlot slot() {
        return slot;
    }

    /** The decoded path of the request target, without the query string. */
    public String path() {
        return query.path();
    }

    /** The first value of a query parameter, or null. */
    public String queryParameter(String name) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The authenticated caller; null on public routes. */
    public Principal principal() {
        return principal;
    }

    ApiRequest authenticatedAs(Principal caller) {
        this.principal = caller;
        return this;
    }

    @Override
    protected void deallocate() {
        http.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        http.touch(hint);
        return this;
    }
}
