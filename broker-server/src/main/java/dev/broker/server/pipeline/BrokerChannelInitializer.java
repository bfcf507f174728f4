package dev.broker.server.pipeline;

import dev.broker.server.http.BodyLimitAggregator;
import dev.broker.server.http.CorsHandler;
import dev.broker.server.http.ExceptionHandler;
import dev.broker.server.http.ExchangeListener;
import dev.broker.server.http.ExchangeRecorder;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.RequestDeadline;
import dev.broker.server.http.StrictServerCodec;
import dev.broker.server.http.RequestSequencer;
import dev.broker.server.http2.Http2IdleTimeout;
import dev.broker.server.http2.Http2SettingsDeadline;
import dev.broker.server.tls.TlsPortGuard;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Assembles every connection's pipeline, top to bottom.
 *
 * <p>First of all, a connection over the {@linkplain ConnectionLimits caps} is refused and closed.
 *
 * <p>Plain HTTP: idle timeout → HTTP/1.1 codec, with the request deadline around it (a request's first byte starts
 * the clock before the codec, its last content stops it after) → {@linkplain #addRequestHandlers the request
 * handlers}: body
 * aggregation with its limit → pipelined requests run together, responses leave in request order → CORS →
 * routing → authentication → endpoints → the last exception handler.
 *
 * <p>With {@code --secure}: TLS (a plain-HTTP request to the TLS port gets a 400 instead) → idle timeout → ALPN,
 * which after the handshake either adds the HTTP/1.1 codec and the request handlers to this pipeline, or turns the
 * connection into HTTP/2 ({@link #addHttp2Handlers}), where every stream is a child channel with an
 * HTTP/2-to-HTTP/1 codec and the same request handlers. Each connection takes the certificate current when it is
 * accepted, so a renewed certificate reaches new connections while open ones keep theirs.
 *
 * <p>{@code GET /sse} later swaps the request handlers out for a stream's end ({@link StreamPipeline}).
 */
public final class BrokerChannelInitializer extends ChannelInitializer<Channel> {

    private static final System.Logger LOG = System.getLogger(BrokerChannelInitializer.class.getName());

    /** Longest request line, in bytes; longer is a 400. */
    public static final int MAX_INITIAL_LINE_BYTES = 8 * 1024;
    /** Largest header block, in bytes; larger is a 400. */
    public static final int MAX_HEADER_BYTES = 16 * 1024;
    /** A connection that sends nothing for this long between requests is closed (streams are exempt). */
    public static final int IDLE_TIMEOUT_SECONDS = 120;
    /** Streams one HTTP/2 connection may have open at once (a browser page holding many SSE streams, and requests). */
    public static final int MAX_CONCURRENT_STREAMS = 256;

    private final Supplier<SslContext> tls;
    private final ConnectionLimits limits;
    private final int requestTimeoutSeconds;
    private final String origin;
    private final int maxBodyBytes;
    private final InFlightRequests inFlight;
    private final ChannelHandler router;
    private final ChannelHandler auth;
    private final ChannelHandler api;
    private final ChannelHandler exceptions = new ExceptionHandler();
    private final ExchangeListener exchanges;
    private final Map<String, String> routesByPath;

    /**
     * @param tls    the TLS context for each new connection (it may change between connections; null from the
     *               supplier refuses the connection: no certificate yet), or null for plain HTTP
     * @param limits                the connection caps, shared by every connection of the server
     * @param requestTimeoutSeconds how long a request may take to arrive, from its first byte to its last
     * @param router                shared
     * @param auth                  shared
     * @param api                   shared
     */
    public BrokerChannelInitializer(Supplier<SslContext> tls, ConnectionLimits limits, int requestTimeoutSeconds,
                                    String origin, int maxBodyBytes, InFlightRequests inFlight,
                                    ChannelHandler router, ChannelHandler auth, ChannelHandler api) {
        this(tls, limits, requestTimeoutSeconds, origin, maxBodyBytes, inFlight, router, auth, api,
                ExchangeListener.NONE, Map.of());
    }

    /**
     * @param exchanges    told of every answer (response metrics, the access log)
     * @param routesByPath each route's path to its name, for {@code exchanges}
     */
    public BrokerChannelInitializer(Supplier<SslContext> tls, ConnectionLimits limits, int requestTimeoutSeconds,
                                    String origin, int maxBodyBytes, InFlightRequests inFlight,
                                    ChannelHandler router, ChannelHandler auth, ChannelHandler api,
                                    ExchangeListener exchanges, Map<String, String> routesByPath) {
        this.exchanges = exchanges;
        this.routesByPath = Map.copyOf(routesByPath);
        this.tls = tls;
        this.limits = limits;
        this.requestTimeoutSeconds = requestTimeoutSeconds;
        this.origin = origin;
        this.maxBodyBytes = maxBodyBytes;
        this.inFlight = inFlight;
        this.router = router;
        this.auth = auth;
        this.api = api;
    }

    @Override
    protected void initChannel(Channel channel) {
        if (!limits.admit(channel, tls == null)) {
            return;
        }
        ChannelPipeline pipeline = channel.pipeline();
        if (tls == null) {
            pipeline.addLast(HandlerNames.IDLE_TIMEOUT, new ReadTimeoutHandler(IDLE_TIMEOUT_SECONDS));
            addHttp1Handlers(pipeline);
            return;
        }
        SslContext sslContext = tls.get();
        if (sslContext == null) {
            LOG.log(Level.DEBUG, "refusing a TLS connection from {0}: no certificate yet", channel.remoteAddress());
            channel.close();
            return;
        }
        // The guard replaces itself with the SslHandler (named TLS) on the first TLS record.
        pipeline.addLast(HandlerNames.TLS_GUARD, new TlsPortGuard(sslContext, HandlerNames.TLS));
        pipeline.addLast(HandlerNames.IDLE_TIMEOUT, new ReadTimeoutHandler(IDLE_TIMEOUT_SECONDS));
        pipeline.addLast(HandlerNames.ALPN, new Http2OrHttp1Handler(this));
        pipeline.addLast(HandlerNames.EXCEPTIONS, exceptions);
    }

    /** HTTP/1.1 on this connection: the codec and the request handlers, at the end of the pipeline. */
    void addHttp1Handlers(ChannelPipeline pipeline) {
        if (pipeline.get(HandlerNames.EXCEPTIONS) != null) {
            pipeline.remove(HandlerNames.EXCEPTIONS);
        }
        // Answers complete off the read (inserts after their fsync, one task each): their flushes are merged into
        // one per turn of the loop, so a connection's pipelined responses leave in one write.
        pipeline.addLast(HandlerNames.FLUSH_CONSOLIDATION, new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        RequestDeadline deadline = RequestDeadline.forConnection(requestTimeoutSeconds, TimeUnit.SECONDS);
        pipeline.addLast(HandlerNames.REQUEST_START, deadline.bytes());
        pipeline.addLast(HandlerNames.HTTP_CODEC, new StrictServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
                .setMaxHeaderSize(MAX_HEADER_BYTES)));
        pipeline.addLast(HandlerNames.REQUEST_DEADLINE, deadline);
        addRequestHandlers(pipeline);
    }

    /**
     * HTTP/2 on this connection, after the handshake: {@link Http2FrameCodec} → {@link Http2MultiplexHandler}, which
     * gives every stream a child channel on this connection's event loop; the child gets an
     * {@link Http2StreamFrameToHttpObjectCodec} (named {@link HandlerNames#HTTP_CODEC}) and then exactly the handlers
     * of an HTTP/1.1 request. Each stream has its own flow-control window and its own writability (with the
     * connection's water marks), so a stream whose reader stalls stops being writable alone once its unsent data
     * passes the high mark (a live SSE stream is then closed as a slow consumer, like an HTTP/1.1 one) while the
     * others go on. The client's preface and SETTINGS must arrive within the request deadline, and each stream's
     * request body within the deadline from its header block.
     */
    void addHttp2Handlers(ChannelPipeline pipeline) {
        pipeline.remove(HandlerNames.IDLE_TIMEOUT);
        pipeline.remove(HandlerNames.EXCEPTIONS);
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(MAX_INITIAL_LINE_BYTES + MAX_HEADER_BYTES))
                .build();
        // Every stream's flush is a flush of the connection: a fan-out to many streams of one connection would
        // encrypt and send each stream's frame on its own. Merged into one flush per turn of the loop, they leave
        // in one write of full TLS records.
        pipeline.addLast(HandlerNames.H2_FLUSH_CONSOLIDATION, new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        // Before the codec, so that every byte read (PINGs too) counts as activity.
        pipeline.addLast(HandlerNames.H2_IDLE, new Http2IdleTimeout(IDLE_TIMEOUT_SECONDS));
        pipeline.addLast(HandlerNames.H2_CODEC, codec);
        pipeline.addLast(HandlerNames.H2_MULTIPLEX, new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                // A stream buffers as much as an HTTP/1.1 connection may before it counts as a slow consumer.
                stream.config().setWriteBufferWaterMark(stream.parent().config().getWriteBufferWaterMark());
                stream.pipeline().addLast(HandlerNames.HTTP_CODEC, new Http2StreamFrameToHttpObjectCodec(true));
                // A stream opens with its complete header block: its body has the deadline from now.
                stream.pipeline().addLast(HandlerNames.REQUEST_DEADLINE,
                        RequestDeadline.forStream(requestTimeoutSeconds, TimeUnit.SECONDS));
                addRequestHandlers(stream.pipeline());
            }
        }));
        pipeline.addLast(HandlerNames.H2_SETTINGS_DEADLINE,
                new Http2SettingsDeadline(requestTimeoutSeconds, TimeUnit.SECONDS));
        pipeline.addLast(HandlerNames.EXCEPTIONS, exceptions);
    }

    /**
     * The handlers every request passes, over HTTP/1.1 or as an HTTP/2 stream, added after the codec: aggregation
     * (413) → sequencer → exchanges (metrics, access log) → CORS → router → auth → API → exceptions. {@link HandlerNames#REQUEST_ONLY} names those
     * that leave when the channel becomes a stream.
     */
    void addRequestHandlers(ChannelPipeline pipeline) {
        pipeline.addLast(HandlerNames.AGGREGATOR, new BodyLimitAggregator(maxBodyBytes));
        pipeline.addLast(HandlerNames.SEQUENCER, new RequestSequencer(inFlight));
        // Right after the sequencer: it sees each request with its slot and every answer before it is put in order.
        pipeline.addLast(HandlerNames.EXCHANGES, new ExchangeRecorder(exchanges, routesByPath));
        // After the sequencer, so that a pipelined preflight is answered in turn; every response is written below
        // it (router, auth, endpoints, the exception handler; the sequencer's 503 from the tail) and passes it,
        // which puts it in its request's place.
        pipeline.addLast(HandlerNames.CORS, new CorsHandler(origin));
        pipeline.addLast(HandlerNames.ROUTER, router);
        pipeline.addLast(HandlerNames.AUTH, auth);
        pipeline.addLast(HandlerNames.API, api);
        pipeline.addLast(HandlerNames.EXCEPTIONS, exceptions);
    }
}
