package dev.broker.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.http.InFlightRequests;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real {@link BrokerChannelInitializer} on {@link EmbeddedChannel}s: the handlers of a plain HTTP/1.1 connection,
 * of HTTP/1.1 and of HTTP/2 over TLS (a real handshake with a client channel, bytes carried across by hand, ALPN
 * choosing), of an HTTP/2 stream's child channel, and of a channel once it became a stream. The router, auth and API
 * handlers are stand-ins: what they do is tested elsewhere, where they sit is tested here.
 */
// SelfSignedCertificate is deprecated in Netty 4.2 for netty-pkitesting, which this build does not depend on.
@SuppressWarnings("deprecation")
class BrokerChannelInitializerTest {

    private static final List<String> REQUEST_HANDLERS = List.of(
            "aggregator", "sequencer", "exchanges", "cors", "router", "auth", "api", "exceptions");

    private static SelfSignedCertificate certificate;

    /** The request handlers the stand-in API handler was added to: each HTTP/1.1 connection, each HTTP/2 stream. */
    private final List<Channel> requestChannels = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void makeCertificate() throws Exception {
        certificate = new SelfSignedCertificate("localhost");
    }

    @AfterAll
    static void deleteCertificate() {
        certificate.delete();
    }

    @AfterEach
    void closeChannels() {
        for (EmbeddedChannel channel : channels) {
            channel.finishAndReleaseAll();
        }
    }

    /** Stands in for the router, auth and API handlers: releases what reaches it; the API one notes its channel. */
    @Sharable
    private final class StandIn extends ChannelInboundHandlerAdapter {
        private final boolean api;

        StandIn(boolean api) {
            this.api = api;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (api) {
                requestChannels.add(ctx.channel());
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    private BrokerChannelInitializer initializer(Supplier<SslContext> tls) {
        return initializer(tls, new ConnectionLimits(1000, 0));
    }

    private BrokerChannelInitializer initializer(Supplier<SslContext> tls, ConnectionLimits limits) {
        return new BrokerChannelInitializer(tls, limits, 30, "*", 1024, new InFlightRequests(), new StandIn(false),
                new StandIn(false), new StandIn(true));
    }

    private EmbeddedChannel channel(ChannelHandler... handlers) {
        EmbeddedChannel channel = new EmbeddedChannel(handlers);
        channels.add(channel);
        return channel;
    }

    /** The pipeline's handler names, without Netty's tail. */
    private static List<String> names(ChannelPipeline pipeline) {
        return pipeline.names().stream().filter(name -> !name.contains("TailContext")).toList();
    }

    private static List<String> concat(List<String> first, List<String> then) {
        List<String> all = new ArrayList<>(first);
        all.addAll(then);
        return all;
    }

    @Test
    void plainHttp() {
        EmbeddedChannel server = channel(initializer(null));

        assertEquals(concat(List.of("idleTimeout", "flushConsolidation", "requestStart", "httpCodec",
                "requestDeadline"), REQUEST_HANDLERS), names(server.pipeline()));
        assertEquals(List.of(server), requestChannels);
    }

    @Test
    void aConnectionOverTheCapIsToldSoAndClosed() {
        ConnectionLimits limits = new ConnectionLimits(1, 0);
        EmbeddedChannel first = channel(initializer(null, limits));
        EmbeddedChannel second = channel(initializer(null, limits));

        assertTrue(first.isOpen());
        assertFalse(second.isOpen());
        ByteBuf refusal = second.readOutbound();
        String answer = refusal.toString(java.nio.charset.StandardCharsets.US_ASCII);
        refusal.release();
        assertTrue(answer.startsWith("HTTP/1.1 503 "), answer);
        assertTrue(answer.contains("\r\nRetry-After: 1\r\n"), answer);
        assertTrue(answer.endsWith("{\"error\":\"too many connections\"}"), answer);
        assertEquals(1, limits.open());

        first.close();
        assertEquals(0, limits.open());
        assertTrue(channel(initializer(null, limits)).isOpen(), "a place freed by a close is taken again");
    }

    @Test
    void aTlsConnectionOverTheCapIsClosedWithoutAWord() {
        ConnectionLimits limits = new ConnectionLimits(1, 0);
        channel(initializer(() -> serverContext(), limits));
        EmbeddedChannel second = channel(initializer(() -> serverContext(), limits));

        assertFalse(second.isOpen());
        Object written = second.readOutbound();
        assertEquals(null, written);
    }

    @Test
    void tlsBeforeTheFirstBytes() {
        EmbeddedChannel server = channel(initializer(() -> serverContext()));

        assertEquals(List.of("tlsGuard", "idleTimeout", "alpn", "exceptions"), names(server.pipeline()));
    }

    @Test
    void tlsWithoutACertificateYetRefusesTheConnection() {
        EmbeddedChannel server = channel(initializer(() -> null));

        assertFalse(server.isOpen());
    }

    @Test
    void http1OverTls() {
        EmbeddedChannel server = channel(initializer(() -> serverContext()));
        EmbeddedChannel client = channel(clientContext(ApplicationProtocolNames.HTTP_1_1).newHandler(
                ByteBufAllocator.DEFAULT, "localhost", 443));

        handshake(client, server);

        assertEquals(concat(List.of("tls", "idleTimeout", "flushConsolidation", "requestStart", "httpCodec",
                "requestDeadline"), REQUEST_HANDLERS), names(server.pipeline()));
    }

    @Test
    void http2OverTlsAndItsStreams() throws Exception {
        EmbeddedChannel server = channel(initializer(() -> serverContext()));
        // The client's HTTP/2 handlers from the start: its preface waits in the SslHandler for the handshake.
        EmbeddedChannel client = channel(clientContext(ApplicationProtocolNames.HTTP_2).newHandler(
                ByteBufAllocator.DEFAULT, "localhost", 443), Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        handshake(client, server);

        // The settings deadline left with the client's SETTINGS.
        assertEquals(List.of("tls", "h2FlushConsolidation", "h2Idle", "h2Codec", "h2Multiplex", "exceptions"),
                names(server.pipeline()));
        assertTrue(requestChannels.isEmpty(), "the connection itself takes no requests");

        Future<Http2StreamChannel> opened = new Http2StreamChannelBootstrap(client)
                .handler(new ChannelInboundHandlerAdapter()).open();
        client.runPendingTasks();
        Http2StreamChannel clientStream = opened.get();
        clientStream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                .method("GET").path("/healthz").scheme("https").authority("localhost"), true));
        carry(client, server);

        assertEquals(1, requestChannels.size(), "one child channel for the stream");
        Channel stream = requestChannels.get(0);
        assertTrue(stream instanceof Http2StreamChannel);
        assertEquals(server, stream.parent());
        assertEquals(concat(List.of("httpCodec", "requestDeadline"), REQUEST_HANDLERS), names(stream.pipeline()));

        StreamPipeline.install(stream, new StreamEnd());
        assertEquals(List.of("sseH2Encoder", "sseStream", "exceptions"), names(stream.pipeline()));
    }

    @Test
    void http2StreamsFlushedOutsideAReadLeaveInOneTlsWrite() throws Exception {
        EmbeddedChannel server = channel(initializer(() -> serverContext()));
        EmbeddedChannel client = channel(clientContext(ApplicationProtocolNames.HTTP_2).newHandler(
                ByteBufAllocator.DEFAULT, "localhost", 443), Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        handshake(client, server);
        for (int i = 0; i < 3; i++) {
            Future<Http2StreamChannel> opened = new Http2StreamChannelBootstrap(client)
                    .handler(new ChannelInboundHandlerAdapter()).open();
            client.runPendingTasks();
            opened.get().writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                    .method("GET").path("/sse").scheme("https").authority("localhost"), true));
        }
        carry(client, server);
        assertEquals(3, requestChannels.size());

        // As a fan-out does: a frame written and flushed on each stream, from a task of the loop, not a read.
        for (Channel stream : requestChannels) {
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
        }
        assertNull(server.readOutbound(), "nothing sent before the loop's turn ends");
        server.runPendingTasks();
        ByteBuf sent = server.readOutbound();
        assertNotNull(sent);
        sent.release();
        assertNull(server.readOutbound(), "the three streams' frames left in one write");
    }

    @Test
    void aPlainConnectionBecomingAStream() {
        EmbeddedChannel server = channel(initializer(null));

        StreamPipeline.install(server, new StreamEnd());

        assertEquals(List.of("sseStream", "exceptions"), names(server.pipeline()));
    }

    @Test
    void everyRequestHandlerThatLeavesForAStreamIsNamed() {
        List<String> leaving = new ArrayList<>(REQUEST_HANDLERS);
        leaving.addAll(List.of("requestStart", "requestDeadline"));
        leaving.remove("exceptions");
        leaving.remove("exchanges"); // leaves by itself unless it follows the stream for the access log
        assertTrue(HandlerNames.REQUEST_ONLY.containsAll(leaving), HandlerNames.REQUEST_ONLY.toString());
    }

    /** Stands in for the SSE stream's end. */
    private static final class StreamEnd extends ChannelInboundHandlerAdapter {
    }

    private static SslContext serverContext() {
        try {
            return SslContextBuilder.forServer(certificate.certificate(), certificate.privateKey())
                    .sslProvider(SslProvider.JDK)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static SslContext clientContext(String protocol) {
        try {
            return SslContextBuilder.forClient()
                    .sslProvider(SslProvider.JDK)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocol))
                    .build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Carries bytes both ways until the client's handshake is done. */
    private static void handshake(EmbeddedChannel client, EmbeddedChannel server) {
        SslHandler ssl = client.pipeline().get(SslHandler.class);
        for (int round = 0; round < 20 && !ssl.handshakeFuture().isDone(); round++) {
            carry(client, server);
        }
        assertTrue(ssl.handshakeFuture().isSuccess(), String.valueOf(ssl.handshakeFuture().cause()));
        carry(client, server); // the server's last handshake bytes, and what ALPN set up after them
        assertNotNull(server.pipeline().get(SslHandler.class));
    }

    /** Carries what each side wrote to the other, until neither has anything more to say. */
    private static void carry(EmbeddedChannel client, EmbeddedChannel server) {
        boolean moved;
        int rounds = 0;
        do {
            moved = move(client, server) | move(server, client);
            client.runPendingTasks();
            server.runPendingTasks();
        } while (moved && ++rounds < 100);
        assertFalse(moved, "the two sides never stopped talking");
    }

    private static boolean move(EmbeddedChannel from, EmbeddedChannel to) {
        boolean moved = false;
        for (ByteBuf bytes; (bytes = from.readOutbound()) != null; ) {
            if (!bytes.isReadable()) {
                bytes.release(); // a flush with nothing in it: carrying it over would only echo back and forth
                continue;
            }
            to.writeInbound(bytes);
            moved = true;
        }
        return moved;
    }
}
