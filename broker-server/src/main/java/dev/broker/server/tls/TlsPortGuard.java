package dev.broker.server.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * The first handler of an HTTPS connection. It looks at the first bytes: a TLS record makes it replace itself
 * with the {@code SslHandler} (under the name it was given); anything else (typically {@code http://} to the
 * HTTPS port) is answered, in plain text, with a {@code 400} that says to use https, and the connection is closed.
 */
public final class TlsPortGuard extends OptionalSslHandler {

    private static final String PLAIN_HTTP_BODY = "{\"error\":\"this port speaks HTTPS: use https:// to connect\"}";
    private static final byte[] PLAIN_HTTP_ANSWER = ("HTTP/1.1 400 Bad Request\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: " + PLAIN_HTTP_BODY.length() + "\r\n"
            + "Connection: close\r\n"
            + "\r\n"
            + PLAIN_HTTP_BODY).getBytes(StandardCharsets.US_ASCII);

    private final String sslHandlerName;

    /** @param sslHandlerName the name the {@code SslHandler} takes in the pipeline */
    public TlsPortGuard(SslContext context, String sslHandlerName) {
        super(context);
        this.sslHandlerName = sslHandlerName;
    }

    @Override
    protected String newSslHandlerName() {
        return sslHandlerName;
    }

    @Override
    protected ChannelHandler newNonSslHandler(ChannelHandlerContext context) {
        return new PlainRequestRefusal();
    }

    /** Drops what the client sent, answers the 400 once and closes. */
    private static final class PlainRequestRefusal extends ChannelInboundHandlerAdapter {

        private boolean answered;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (!answered) {
                answered = true;
                ByteBuf answer = Unpooled.wrappedBuffer(PLAIN_HTTP_ANSWER);
                ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
