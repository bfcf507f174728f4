package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.tls.TestCertificates.KeyFormat;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProtocols;
import io.netty.handler.ssl.SslProvider;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tls_groups} decides the key exchange a client can get, and TLS 1.3 sessions still resume with the small
 * per-connection buffer for the records written while reading (the session tickets go out through it).
 */
class TlsGroupsAndResumptionTest {

    @TempDir
    Path dir;

    private final TestCertificates pki = new TestCertificates();
    private EventLoopGroup group;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(TlsContexts.provider() == SslProvider.OPENSSL, "the server runs on OpenSSL here");
        pki.install(dir.resolve("certs"), pki.leaf(TestCertificates.ec()), KeyFormat.PKCS8);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void tearDown() {
        if (group != null) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void onlyTheConfiguredGroupsAreAgreed() throws Exception {
        try (SecureBroker broker = new SecureBroker(dir, pki.trustingCa(),
                config -> config.with(Flags.TLS_GROUPS, List.of("P-384")))) {
            assertFalse(handshake(client("X25519"), broker.port()).success(),
                    "a client offering only X25519 finds no group in common");
            assertTrue(handshake(client("X25519", "P-384"), broker.port()).success());
            assertEquals(200, broker.send(broker.client(HttpClient.Version.HTTP_1_1),
                    HttpRequest.newBuilder(broker.uri("/healthz")).build()).statusCode());
        }
        try (SecureBroker broker = new SecureBroker(dir, pki.trustingCa(), config -> config)) {
            assertTrue(handshake(client("X25519"), broker.port()).success(), "the default accepts X25519");
            assertTrue(handshake(client("X25519MLKEM768"), broker.port()).success(),
                    "the default accepts the post-quantum hybrid");
        }
    }

    @Test
    void anUnknownGroupStopsTheStartWithItsFlagNamed() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new SecureBroker(dir,
                pki.trustingCa(), config -> config.with(Flags.TLS_GROUPS, List.of("X25519", "no-such-group"))));
        assertTrue(e.getMessage().contains("--tls_groups X25519,no-such-group"), e.getMessage());
    }

    @Test
    void aReturningClientResumesItsSession() throws Exception {
        try (SecureBroker broker = new SecureBroker(dir, pki.trustingCa(), config -> config)) {
            SslContext client = client("X25519");
            Handshake first = handshake(client, broker.port());
            assertTrue(first.success());
            assertFalse(first.resumed());
            Handshake again = handshake(client, broker.port());
            assertTrue(again.success());
            assertTrue(again.resumed(), "the second connection resumed the first one's session");
        }
    }

    private record Handshake(boolean success, boolean resumed) {
    }

    /**
     * Connects, handshakes, and asks for {@code /healthz} with {@code Connection: close}: the answer comes after the
     * server's session tickets, so once the server has closed, the client has cached them.
     */
    private Handshake handshake(SslContext context, int port) throws Exception {
        SslHandler[] handler = new SslHandler[1];
        Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        handler[0] = context.newHandler(ch.alloc(), "localhost", port);
                        ch.pipeline().addLast(handler[0], new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object message) {
                                ReferenceCountUtil.release(message);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                // A refused handshake fails handshakeFuture(), which the test reads; no log line.
                                ctx.close();
                            }
                        });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        try {
            boolean success = handler[0].handshakeFuture().await(10, TimeUnit.SECONDS)
                    && handler[0].handshakeFuture().isSuccess();
            boolean resumed = false;
            if (success) {
                ReferenceCountedOpenSslEngine engine = (ReferenceCountedOpenSslEngine) handler[0].engine();
                synchronized (engine) {
                    resumed = SSL.isSessionReused(engine.sslPointer());
                }
                channel.writeAndFlush(Unpooled.copiedBuffer(
                        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                        StandardCharsets.US_ASCII)).sync();
                assertTrue(channel.closeFuture().await(10, TimeUnit.SECONDS), "the server answered and closed");
            }
            return new Handshake(success, resumed);
        } finally {
            channel.close().sync();
        }
    }

    private SslContext client(String... groups) throws Exception {
        return SslContextBuilder.forClient()
                .sslProvider(SslProvider.OPENSSL)
                .protocols(SslProtocols.TLS_v1_3)
                .trustManager(pki.ca.certificate())
                .option(OpenSslContextOption.GROUPS, groups)
                .build();
    }
}
