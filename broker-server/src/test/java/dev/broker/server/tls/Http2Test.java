package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.broker.server.tls.TestCertificates.KeyFormat;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import dev.broker.server.sse.SseSession;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 over TLS with real clients: the JDK's HttpClient, a Netty client with small windows, curl and nghttp. */
class Http2Test {

    @TempDir
    Path dir;

    private final TestCertificates pki = new TestCertificates();
    private SecureBroker broker;
    private String jwt;

    @BeforeEach
    void start() throws IOException {
        pki.install(dir.resolve("certs"), pki.leaf(TestCertificates.ec()), KeyFormat.PKCS8);
        broker = new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity());
        jwt = broker.userToken("ada", "acme");
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    void manySseStreamsOnOneConnectionReceiveEveryEvent() throws Exception {
        HttpClient h2 = broker.http2();
        String first = broker.insert(h2, jwt, "before", "{\"n\":0}");
        List<SecureBroker.SseLines> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 24; i++) {
                SecureBroker.SseLines stream = broker.sse(h2, jwt);
                assertEquals(HttpClient.Version.HTTP_2, stream.response.version());
                assertEquals(200, stream.response.statusCode());
                assertEquals("text/event-stream", stream.response.headers().firstValue("content-type").orElse(null));
                assertFalse(stream.response.headers().firstValue("connection").isPresent(), "h2 forbids Connection");
                streams.add(stream);
            }
            for (SecureBroker.SseLines stream : streams) {
                stream.awaitId(first, Duration.ofSeconds(5)); // the snapshot
            }
            for (int n = 1; n <= 5; n++) {
                String id = broker.insert(h2, jwt, "live", "{\"n\":" + n + "}");
                for (SecureBroker.SseLines stream : streams) {
                    stream.awaitId(id, Duration.ofSeconds(5));
                }
            }
        } finally {
            for (SecureBroker.SseLines stream : streams) {
                stream.close();
            }
        }
    }

    @Test
    void everyEndpointAnswersOverHttp2AsOverHttp1() {
        HttpClient h2 = broker.http2();
        HttpResponse<String> health = broker.send(h2, HttpRequest.newBuilder(broker.uri("/healthz")).build());
        assertEquals(HttpClient.Version.HTTP_2, health.version());
        assertEquals(200, health.statusCode());
        assertEquals("*", health.headers().firstValue("access-control-allow-origin").orElse(null));

        HttpResponse<String> verify = broker.send(h2, HttpRequest.newBuilder(broker.uri("/verify"))
                .header("Authorization", "Bearer " + jwt).build());
        assertEquals(200, verify.statusCode());
        assertTrue(verify.body().contains("\"tenant_name\":\"acme\""), verify.body());

        assertEquals(401, broker.send(h2, HttpRequest.newBuilder(broker.uri("/verify")).build()).statusCode());
        assertEquals(404, broker.send(h2, HttpRequest.newBuilder(broker.uri("/nope")).build()).statusCode());
        assertEquals(405, broker.send(h2, HttpRequest.newBuilder(broker.uri("/insert")).build()).statusCode());
        assertEquals(400, broker.post(h2, "/insert", "{\"event\":\"x\"}", "Authorization", "Bearer " + jwt).statusCode());
        HttpResponse<String> preflight = broker.send(h2, HttpRequest.newBuilder(broker.uri("/insert"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(204, preflight.statusCode());
        // The connection survives all of that.
        String id = broker.insert(h2, jwt, "after", "[1,2,3]");
        assertTrue(Long.parseLong(id) > 0);
    }

    @Test
    void aStalledStreamIsClosedWhileTheOthersOnItsConnectionKeepReceiving() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            SslContext tls = SslContextBuilder.forClient()
                    .trustManager(pki.ca.certificate())
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                    .build();
            int port = broker.port();
            Channel connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            channel.pipeline().addLast(tls.newHandler(channel.alloc(), "localhost", port));
                            // A small per-stream window, so that a reader that stops reading stalls its stream soon.
                            channel.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                    .initialSettings(Http2Settings.defaultSettings().initialWindowSize(16 * 1024)).build());
                            channel.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        }
                    })
                    .connect("127.0.0.1", port).sync().channel();
            List<StreamReader> readers = new ArrayList<>();
            List<Http2StreamChannel> streams = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                StreamReader reader = new StreamReader();
                Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(reader).open().sync().getNow();
                if (i == 0) {
                    stream.config().setAutoRead(false); // this reader stalls: its window is never given back
                }
                Http2Headers headers = new DefaultHttp2Headers().method("GET").path("/sse").scheme("https")
                        .authority("localhost:" + port);
                headers.set("authorization", "Bearer " + jwt);
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true)).sync();
                readers.add(reader);
                streams.add(stream);
            }
            // 400 KB: past the stalled stream's window (16 KiB) and the server's bound on unsent data (256 KiB).
            String payload = "\"" + "x".repeat(4000) + "\"";
            String last = null;
            for (int n = 0; n < 100; n++) {
                last = broker.insert(broker.http2(), jwt, "bulk", payload);
            }
            for (int i = 1; i < readers.size(); i++) {
                readers.get(i).awaitText("id:" + last + "\n", Duration.ofSeconds(10));
                assertEquals(100, readers.get(i).count("event:bulk\n"), "stream " + i + " lost events");
            }
            // A stream counts as stalled once it stayed unwritable for STALL_MILLIS; only the server sees that
            // moment, so the test lets that time pass (plus a margin) before the stalled reader reads again.
            Thread.sleep(SseSession.STALL_MILLIS + 1_000);
            // The server reset the stalled stream; the client sees it once it reads again (the RST_STREAM frame
            // waits behind the unread DATA), with only what its window let through.
            streams.get(0).config().setAutoRead(true);
            streams.get(0).read();
            assertTrue(streams.get(0).closeFuture().await(10, TimeUnit.SECONDS), "the stalled stream was not closed");
            int stalledGot = readers.get(0).count("event:bulk\n");
            assertTrue(stalledGot < 10, "the stalled stream received " + stalledGot + " events through a 16 KiB window");
            assertTrue(connection.isActive(), "the connection must survive");
            for (int i = 1; i < streams.size(); i++) {
                assertTrue(streams.get(i).isActive(), "stream " + i + " must stay open");
            }
            connection.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void curlAndNghttpSpeakHttp2ToIt() throws Exception {
        assumeTrue(onPath("curl"), "curl not installed");
        Path ca = dir.resolve("ca.pem");
        Files.writeString(ca, TestCertificates.pem(pki.ca.certificate()));
        String id = broker.insert(broker.http2(), jwt, "hello", "{\"from\":\"curl\"}");
        String base = "https://localhost:" + broker.port();
        Result health = run("curl", "-sS", "--http2", "--cacert", ca.toString(), "-o", "/dev/null", "-w", "%{http_version}",
                base + "/healthz");
        assertEquals("2", health.out.trim(), health.toString());
        // An SSE stream never ends by itself: curl stops after 2 s (exit 28) with what it got.
        Result sse = run("curl", "-sS", "-N", "--http2", "--cacert", ca.toString(), "--max-time", "2", "-D", "-",
                "-H", "Authorization: Bearer " + jwt, base + "/sse");
        assertTrue(sse.out.startsWith("HTTP/2 200"), sse.toString());
        assertFalse(sse.out.toLowerCase().contains("connection:"), sse.toString());
        assertTrue(sse.out.contains("id:" + id + "\nevent:hello\ndata:{\"from\":\"curl\"}\n\n"), sse.toString());
        if (onPath("nghttp")) {
            Result nghttp = run("nghttp", "--header=Authorization: Bearer " + jwt, base + "/verify");
            assertEquals(0, nghttp.exit, nghttp.toString());
            assertTrue(nghttp.out.contains("\"username\":\"ada\""), nghttp.toString());
        }
    }

    record Result(int exit, String out) {
    }

    static boolean onPath(String command) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(directory, command))) {
                return true;
            }
        }
        return false;
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        return new Result(process.exitValue(), out);
    }

    /** Collects one stream's DATA as text. */
    static final class StreamReader extends SimpleChannelInboundHandler<Http2StreamFrame> {

        private final StringBuilder text = new StringBuilder();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            if (frame instanceof Http2DataFrame data) {
                synchronized (text) {
                    text.append(data.content().toString(StandardCharsets.US_ASCII));
                    text.notifyAll();
                }
            } else if (frame instanceof Http2HeadersFrame headers) {
                assertEquals("200", String.valueOf(headers.headers().status()));
            }
        }

        void awaitText(String expected, Duration timeout) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            synchronized (text) {
                while (text.indexOf(expected) < 0) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        throw new AssertionError("no '" + expected.trim() + "' within " + timeout + "; got " + text.length() + " chars");
                    }
                    text.wait(left);
                }
            }
        }

        int count(String needle) {
            synchronized (text) {
                int n = 0;
                for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
                    n++;
                }
                return n;
            }
        }
    }

    @Test
    void listUsersStreamsInDataFramesTheSameBytesAsOverHttp11() {
        broker.close();
        try (dev.broker.storage.rocksdb.RocksStorage storage =
                     dev.broker.storage.rocksdb.RocksStorage.open(dir.resolve("db"))) {
            java.util.concurrent.CompletableFuture.allOf(java.util.stream.IntStream.range(0, 1_200)
                    .mapToObj(i -> storage.users().create(new dev.broker.storage.User("id" + i, "user" + i, "t",
                            "hash", false)))
                    .toArray(java.util.concurrent.CompletableFuture[]::new)).join();
        }
        broker = new SecureBroker(dir, pki.trustingCa(), UnaryOperator.identity());
        String body = "{\"admin_token\":\"" + dev.broker.server.testing.TestBroker.ADMIN_TOKEN + "\"}";

        HttpResponse<String> overH2 = broker.post(broker.http2(), "/list_users", body);
        HttpResponse<String> overH1 = broker.post(broker.client(HttpClient.Version.HTTP_1_1), "/list_users", body);

        assertEquals(HttpClient.Version.HTTP_2, overH2.version());
        assertEquals(200, overH2.statusCode(), overH2.body());
        assertFalse(overH2.headers().firstValue("transfer-encoding").isPresent(), "no HTTP/1.1 framing in HTTP/2");
        assertEquals(overH1.body(), overH2.body());
        assertEquals(1_201, overH2.body().split("\"password\":\"\\*\\*\\*\"", -1).length - 1,
                "ada and the 1,200 stored users, across three pages of the stream");
    }
}
