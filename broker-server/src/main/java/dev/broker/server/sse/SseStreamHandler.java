package dev.broker.server.sse;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The pipeline's stream end once a request became an SSE stream: whatever the client still sends is dropped,
 * writability changes reach the session (a slow consumer is closed), and a closed channel leaves its tenant.
 */
@Sharable
public final class SseStreamHandler extends ChannelInboundHandlerAdapter {

    /** Stateless (the state is the session's), so one instance serves every stream. */
    public static final SseStreamHandler INSTANCE = new SseStreamHandler();

    private SseStreamHandler() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        SseSession session = SseSession.of(ctx.channel());
        if (session != null) {
            session.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        SseSession session = SseSession.of(ctx.channel());
        if (session != null) {
            session.closed();
        }
        ctx.fireChannelInactive();
    }
}
