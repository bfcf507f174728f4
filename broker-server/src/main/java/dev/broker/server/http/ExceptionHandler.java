package dev.broker.server.http;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.ReadTimeoutException;
import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * The last handler. A vanished or idle peer is closed quietly; a decoding failure is a 400 and a close while the
 * connection still speaks HTTP; anything else is logged once with the remote address (its messages withheld: see
 * {@link Redacted}), answered with 500 where a
 * response can still be written, and closed. An exception does not say which request it came from, so these answers
 * are the connection's {@linkplain HttpResponses#lastWords last words}: they answer the oldest request still waiting.
 */
@Sharable
public final class ExceptionHandler extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(ExceptionHandler.class.getName());

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!ctx.channel().isActive()) {
            return;
        }
        // Requests are answered while the channel takes them, which its sequencer (gone once it is a stream, or on
        // an HTTP/2 connection's own pipeline) says.
        boolean speaksHttp = ctx.pipeline().get(RequestSequencer.class) != null;
        if (cause instanceof IOException || cause instanceof ReadTimeoutException) {
            ctx.close();
        } else if (cause instanceof DecoderException && speaksHttp) {
            HttpResponses.lastWords(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request");
        } else if (speaksHttp) {
            LOG.log(Level.WARNING, "unexpected error on connection from " + ctx.channel().remoteAddress(),
                    Redacted.of(cause));
            HttpResponses.lastWords(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error");
        } else {
            LOG.log(Level.WARNING, "unexpected error on stream to " + ctx.channel().remoteAddress(), Redacted.of(cause));
            ctx.close();
        }
    }
}
