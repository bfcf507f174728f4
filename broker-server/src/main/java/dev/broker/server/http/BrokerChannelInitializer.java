package dev.broker.server.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.ReadTimeoutHandler;

/**
 * Assembles every connection's pipeline, top to bottom:
 * TLS (with --secure) → idle timeout → HTTP codec → CORS → body aggregation with its limit → one request at a
 * time → routing → authentication → endpoints → the last exception handler.
 * {@code GET /sse} later swaps the HTTP handlers out for a stream writer (see the sse package).
 */
public final class BrokerChannelInitializer extends ChannelInitializer<SocketChannel> {

    /** Longest request line, in bytes; longer is a 400. */
    public static final int MAX_INITIAL_LINE_BYTES = 8 * 1024;
    /** Largest header block, in bytes; larger is a 400. */
    public static final int MAX_HEADER_BYTES = 16 * 1024;
    /** A connection that sends nothing for this long between requests is closed (streams are exempt). */
    public static final int IDLE_TIMEOUT_SECONDS = 120;

    private final SslContext sslContext;
    private final String origin;
    private final int maxBodyBytes;
    private final InFlightRequests inFlight;
    private final ChannelHandler router;
    private final ChannelHandler auth;
    private final ChannelHandler api;
    private final ChannelHandler exceptions = new ExceptionHandler();

    /**
     * @param sslContext null for plain HTTP
     * @param router     shared
     * @param auth       shared
     * @param api        shared
     */
    public BrokerChannelInitializer(SslContext sslContext, String origin, int maxBodyBytes, InFlightRequests inFlight,
                                    ChannelHandler router, ChannelHandler auth, ChannelHandler api) {
        this.sslContext = sslContext;
        this.origin = origin;
        this.maxBodyBytes = maxBodyBytes;
        this.inFlight = inFlight;
        this.router = router;
        this.auth = auth;
        this.api = api;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        if (sslContext != null) {
            pipeline.addLast(HandlerNames.TLS, sslContext.newHandler(channel.alloc()));
        }
        pipeline.addLast(HandlerNames.IDLE_TIMEOUT, new ReadTimeoutHandler(IDLE_TIMEOUT_SECONDS));
        pipeline.addLast(HandlerNames.HTTP_CODEC, new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
                .setMaxHeaderSize(MAX_HEADER_BYTES)));
        pipeline.addLast(HandlerNames.CORS, new CorsHandler(origin));
        pipeline.addLast(HandlerNames.AGGREGATOR, new BodyLimitAggregator(maxBodyBytes));
        pipeline.addLast(HandlerNames.SEQUENCER, new RequestSequencer(inFlight));
        pipeline.addLast(HandlerNames.ROUTER, router);
        pipeline.addLast(HandlerNames.AUTH, auth);
        pipeline.addLast(HandlerNames.API, api);
        pipeline.addLast(HandlerNames.EXCEPTIONS, exceptions);
    }
}
