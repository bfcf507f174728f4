package dev.broker.server.http2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/2 connection must open with the client's preface and SETTINGS within the request deadline, or it is
 * closed: a client that negotiated {@code h2} and then trickles (or withholds) its preface holds a connection like a
 * slow HTTP/1.1 request head would. Goes after the multiplexer, which passes the connection's SETTINGS frames on;
 * leaves the pipeline at the first one.
 */
public final class Http2SettingsDeadline extends ChannelInboundHandlerAdapter {

    private final long timeoutNanos;
    private ScheduledFuture<?> deadline;

    public Http2SettingsDeadline(long timeout, TimeUnit unit) {
        this.timeoutNanos = unit.toNanos(timeout);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> ctx.channel().close(), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        deadline.cancel(false);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2SettingsFrame) {
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelRead(msg);
    }
}
