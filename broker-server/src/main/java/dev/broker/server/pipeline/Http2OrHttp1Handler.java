package dev.broker.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.lang.System.Logger.Level;

/**
 * Waits for the TLS handshake, then has the {@link BrokerChannelInitializer} set the connection up for the protocol
 * ALPN chose: {@code h2}, or HTTP/1.1 (also for clients that offer no ALPN). A failed handshake (garbage, a client
 * that does not trust the certificate, an old protocol version) is logged at DEBUG and closes the connection:
 * clients cause those, not the server, and they must not flood the log.
 */
final class Http2OrHttp1Handler extends ApplicationProtocolNegotiationHandler {

    private static final System.Logger LOG = System.getLogger(Http2OrHttp1Handler.class.getName());

    private final BrokerChannelInitializer initializer;

    Http2OrHttp1Handler(BrokerChannelInitializer initializer) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.initializer = initializer;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
            initializer.addHttp1Handlers(ctx.pipeline());
        } else if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            initializer.addHttp2Handlers(ctx.pipeline());
        } else {
            throw new IllegalStateException("unexpected ALPN protocol " + protocol);
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.DEBUG, "TLS handshake with {0} failed: {1}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Before the handshake completes, every error is the client's (or the network's).
        LOG.log(Level.DEBUG, "TLS connection from {0} failed before the handshake completed: {1}",
                ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
