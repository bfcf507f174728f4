package dev.broker.server.http2;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/2 counterpart of the HTTP/1.1 idle timeout: a connection that sends nothing for the timeout is closed,
 * unless it carries an SSE stream (a subscriber may stay silent for as long as it likes, as over HTTP/1.1).
 */
public final class Http2IdleTimeout extends IdleStateHandler {

    private static final AttributeKey<int[]> SSE_STREAMS = AttributeKey.valueOf(Http2IdleTimeout.class, "sseStreams");

    public Http2IdleTimeout(int seconds) {
        super(seconds, 0, 0, TimeUnit.SECONDS);
    }

    /**
     * Marks an HTTP/2 stream channel as an SSE stream until it closes: its connection is not closed for idleness
     * meanwhile. Call on the stream's event loop (the connection's).
     */
    public static void holdOpen(Channel stream) {
        Channel connection = stream.parent();
        if (connection == null) {
            return;
        }
        int[] counter = connection.attr(SSE_STREAMS).get();
        if (counter == null) {
            counter = new int[1];
            connection.attr(SSE_STREAMS).set(counter);
        }
        int[] streams = counter;
        streams[0]++;
        stream.closeFuture().addListener((ChannelFutureListener) closed -> streams[0]--);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
        if (event.state() != IdleState.READER_IDLE) {
            return;
        }
        int[] streams = ctx.channel().attr(SSE_STREAMS).get();
        if (streams == null || streams[0] == 0) {
            ctx.close();
        }
    }
}
