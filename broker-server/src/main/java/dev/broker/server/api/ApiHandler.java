package dev.broker.server.api;

import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.Redacted;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.lang.System.Logger.Level;
import java.util.EnumMap;
import java.util.Map;

/**
 * Hands each routed, authenticated request to its {@link Endpoint}, and releases the request afterwards. Answers
 * itself, through the request's slot: {@code 400} for a body the endpoint refused, {@code 500} and a close for an
 * endpoint that threw.
 */
@Sharable
public final class ApiHandler extends SimpleChannelInboundHandler<ApiRequest> {

    private static final System.Logger LOG = System.getLogger(ApiHandler.class.getName());

    private final Map<Route, Endpoint> endpoints;

    public ApiHandler(Map<Route, Endpoint> endpoints) {
        super(ApiRequest.class, false);
        this.endpoints = new EnumMap<>(endpoints);
        for (Route route : Route.values()) {
            if (!this.endpoints.containsKey(route)) {
                throw new IllegalArgumentException("no endpoint for " + route);
            }
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ApiRequest request) {
        // Endpoints run on the channel's event loop and must hand slow work elsewhere; tests run with -ea.
        assert ctx.executor().inEventLoop() : "endpoint called off its event loop";
        try {
            endpoints.get(request.route()).handle(ctx, request);
        } catch (BadRequestException e) {
            HttpResponses.error(ctx, request.slot(), HttpResponseStatus.BAD_REQUEST, e.getMessage());
        } catch (RuntimeException e) {
            // Answered here, in the request's own turn; the exception handler could only tell the connection.
            LOG.log(Level.WARNING, request.route().path() + " failed on connection from "
                    + ctx.channel().remoteAddress(), Redacted.of(e));
            HttpResponses.errorAndClose(ctx, request.slot(), HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error");
        } finally {
            request.release();
        }
    }
}
