package dev.broker.bench.load;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Subscribers over HTTP/2, as browsers hold them: up to {@code perConnection} SSE streams share one TLS connection
 * ({@link io.netty.handler.codec.http2.Http2FrameCodec} → {@link Http2MultiplexHandler}, each stream a child
 * channel on the connection's event loop). A stream takes the first connection with room, counting the streams
 * still open, so subscribers that reconnect fill the connections they left; a new connection is opened only when
 * all are full. Stream and connection windows are large (1 MiB, 64 MiB), so flow control never paces the server.
 */
final class H2Connections {

    private static final int STREAM_WINDOW = 1 << 20;
    private static final int CONNECTION_WINDOW = 64 << 20;

    private final LoadClient client;
    private final EventLoopGroup loops;
    private final ClientTls tls;
    private final int perConnection;
    private final List<Parent> parents = new ArrayList<>(); // guarded by this

    H2Connections(LoadClient client, EventLoopGroup loops, ClientTls tls) {
        this.client = client;
        this.loops = loops;
        this.tls = tls;
        this.perConnection = tls.h2Streams();
    }

    private static final class Parent {
        final Promise<Channel> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        int streams; // open or opening; guarded by H2Connections.this
        volatile boolean dead;
    }

    /** Opens one stream whose pipeline is {@code handler}; the promise completes with the stream's channel. */
    Promise<Channel> openStream(ChannelHandler handler) {
        Parent parent;
        synchronized (this) {
            parent = null;
            for (Parent p : parents) {
                if (!p.dead && p.streams < perConnection) {
                    parent = p;
                    break;
                }
            }
            if (parent == null) {
                // The n-th connection resumes the session of the n-th before the last drop, as one client would.
                parent = connect(parents.size());
                parents.add(parent);
            }
            parent.streams++;
        }
        Parent chosen = parent;
        Promise<Channel> opened = ImmediateEventExecutor.INSTANCE.newPromise();
        chosen.ready.addListener(f -> {
            if (!f.isSuccess()) {
                streamClosed(chosen);
                opened.tryFailure(f.cause());
                return;
            }
            new Http2StreamChannelBootstrap(chosen.ready.getNow()).handler(handler).open().addListener(s -> {
                if (!s.isSuccess()) {
                    streamClosed(chosen);
                    opened.tryFailure(s.cause());
                    return;
                }
                Channel stream = (Channel) s.getNow();
                stream.closeFuture().addListener(c -> streamClosed(chosen));
                opened.trySuccess(stream);
            });
        });
        return opened;
    }

    private synchronized void streamClosed(Parent parent) {
        parent.streams--;
    }

    private Parent connect(int connection) {
        Parent parent = new Parent();
        ChannelInitializer<Channel> init = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                SslHandler ssl = tls.newSubscriberHandler(ch.alloc(), connection);
                ch.pipeline().addLast(ssl);
                ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                        .initialSettings(Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW))
                        .build());
                ch.pipeline().addLast(new Http2MultiplexHandler(new IgnorePushedStreams()));
                ssl.handshakeFuture().addListener(f -> {
                    if (!f.isSuccess()) {
                        parent.ready.tryFailure(f.cause());
                    } else if (!ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
                        parent.ready.tryFailure(new IOException("the server did not choose h2 (ALPN: "
                                + ssl.applicationProtocol() + ")"));
                        ch.close();
                    } else {
                        ch.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65_535));
                        parent.ready.trySuccess(ch);
                    }
                });
                ch.closeFuture().addListener(f -> {
                    parent.dead = true;
                    parent.ready.tryFailure(new IOException("h2 connection closed"));
                });
            }
        };
        client.connect(client.bootstrap(loops).handler(init)).addListener(f -> {
            if (!f.isSuccess()) {
                parent.dead = true;
                parent.ready.tryFailure(f.cause());
            }
        });
        return parent;
    }

    /** Closes every connection (their streams with them). */
    void close() {
        List<Parent> all;
        synchronized (this) {
            all = new ArrayList<>(parents);
            parents.clear();
        }
        for (Parent p : all) {
            Channel ch = p.ready.getNow();
            if (ch != null) {
                ch.close().awaitUninterruptibly();
            }
        }
    }

    /** The server never opens streams towards the client; anything it might send is dropped. */
    @ChannelHandler.Sharable
    private static final class IgnorePushedStreams extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }
}
