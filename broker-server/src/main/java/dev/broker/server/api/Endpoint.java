package dev.broker.server.api;

import io.netty.channel.ChannelHandlerContext;

/**
 * One endpoint of the contract. {@code handle} runs on the channel's event loop and must read everything it needs
 * from the request before returning (the request is released then); slow work goes to other threads and the
 * response is written back on {@code ctx.executor()}.
 */
@FunctionalInterface
public interface Endpoint {

    void handle(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException;
}
