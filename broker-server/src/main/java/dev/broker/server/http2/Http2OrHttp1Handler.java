package dev.broker.server.http2;

import dev.broker.server.http.BrokerChannelInitializer;
import dev.broker.server.http.ExceptionHandler;
import dev.broker.server.http.HandlerNames;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.lang.System.Logger.Level;

/**
 * Waits for the TLS handshake, then sets the connection up for the protocol ALPN chose: {@code h2}, or HTTP/1.1
 * (also for clients that offer no ALPN). A failed handshake (garbage, a client that does not trust the
 * certificate, an old protocol version) is logged at DEBUG and closes the connection: clients cause those, not
 * the server, and they must not flood the log.
 *
 * <p>HTTP/2: {@link Http2FrameCodec} → {@link Http2MultiplexHandler}, which gives every stream a child channel on
 * this connection's event loop; the child gets an {@link Http2StreamFrameToHttpObjectCodec} (named
 * {@link HandlerNames#HTTP_CODEC}) and then exactly the handlers of an HTTP/1.1 request. Each stream has its own
 * flow-control window and its own writability (with the connection's water marks), so a stream whose reader
 * stalls stops being writable alone once its unsent data passes the high mark (a live SSE stream is then closed
 * as a slow consumer, like an HTTP/1.1 one) while the others go on.
 */
public final class Http2OrHttp1Handler extends ApplicationProtocolNegotiationHandler {

    private static final System.Logger LOG = System.getLogger(Http2OrHttp1Handler.class.getName());

    /** Streams one connection may have open at once (a browser page holding many SSE streams, and requests). */
    public static final int MAX_CONCURRENT_STREAMS = 256;

    private final BrokerChannelInitializer initializer;

    public Http2OrHttp1Handler(BrokerChannelInitializer initializer) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.initializer = initializer;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        ChannelPipeline pipeline = ctx.pipeline();
        if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
            initializer.addHttp1Handlers(pipeline);
        } else if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            addHttp2Handlers(pipeline);
        } else {
            throw new IllegalStateException("unexpected ALPN protocol " + protocol);
        }
    }

    private void addHttp2Handlers(ChannelPipeline pipeline) {
        pipeline.remove(HandlerNames.IDLE_TIMEOUT);
        pipeline.remove(HandlerNames.EXCEPTIONS);
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(BrokerChannelInitializer.MAX_INITIAL_LINE_BYTES
                                + BrokerChannelInitializer.MAX_HEADER_BYTES))
                .build();
        // Before the codec, so that every byte read (PINGs too) counts as activity.
        pipeline.addLast(HandlerNames.H2_IDLE, new Http2IdleTimeout(BrokerChannelInitializer.IDLE_TIMEOUT_SECONDS));
        pipeline.addLast(HandlerNames.H2_CODEC, codec);
        pipeline.addLast(HandlerNames.H2_MULTIPLEX, new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                // A stream buffers as much as an HTTP/1.1 connection may before it counts as a slow consumer.
                stream.config().setWriteBufferWaterMark(stream.parent().config().getWriteBufferWaterMark());
                stream.pipeline().addLast(HandlerNames.HTTP_CODEC, new Http2StreamFrameToHttpObjectCodec(true));
                initializer.addRequestHandlers(stream.pipeline());
            }
        }));
        pipeline.addLast(HandlerNames.EXCEPTIONS, new ExceptionHandler());
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
