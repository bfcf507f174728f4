package dev.broker.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive publisher connections, each with up to {@code depth} pipelined requests in flight, all on one event
 * loop: call every method on {@link #loop()}. Requests go out as raw bytes; responses are read with Netty's HTTP
 * decoder and matched to their requests in order. Writes are batched: {@link #offer} writes, {@link #flush} (or the
 * end of a read) sends.
 */
final class Publishers {

    /** The answer to one publish; {@code status} is -1 when the connection failed first. */
    interface Ack {
        void done(int status, long sentNanos);
    }

    private record Pending(Ack ack, long sentNanos) {
    }

    private final LoadClient client;
    private final EventLoop loop;
    private final int depth;
    private final List<Connection> connections = new ArrayList<>();
    private int cursor;
    private Runnable onReadComplete = () -> { };

    private Publishers(LoadClient client, EventLoop loop, int depth) {
        this.client = client;
        this.loop = loop;
        this.depth = depth;
    }

    /** Opens {@code count} connections; completes once all are connected. */
    static CompletableFuture<Publishers> open(LoadClient client, int count, int depth) {
        EventLoop loop = client.publisherLoop();
        Publishers publishers = new Publishers(client, loop, depth);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            all.add(publishers.connect());
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> publishers);
    }

    EventLoop loop() {
        return loop;
    }

    /** Runs after every batch of responses read (for closed-loop senders: send the next requests there). */
    void onReadComplete(Runnable action) {
        this.onReadComplete = action;
    }

    private CompletableFuture<Void> connect() {
        CompletableFuture<Void> connected = new CompletableFuture<>();
        Connection connection = new Connection();
        Bootstrap bootstrap = client.bootstrap(loop).handler(new io.netty.channel.ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new HttpResponseDecoder(), connection);
            }
        });
        client.connect(bootstrap).addListener(f -> {
            if (f.isSuccess()) {
                loop.execute(() -> connections.add(connection));
                connected.complete(null);
            } else {
                connected.completeExceptionally(f.cause());
            }
        });
        return connected;
    }

    /** Whether some connection has room for one more request. */
    boolean hasRoom() {
        for (Connection c : connections) {
            if (c.usable() && c.pending.size() < depth) {
                return true;
            }
        }
        return false;
    }

    /** Sends (without flushing) one request on the least busy connection; false (request released) if all are full. */
    boolean offer(ByteBuf request, Ack ack) {
        Connection best = null;
        int n = connections.size();
        for (int i = 0; i < n; i++) {
            Connection c = connections.get((cursor + i) % n);
            if (c.usable() && c.pending.size() < depth && (best == null || c.pending.size() < best.pending.size())) {
                best = c;
                if (c.pending.isEmpty()) {
                    break;
                }
            }
        }
        cursor++;
        if (best == null) {
            request.release();
            return false;
        }
        best.pending.add(new Pending(ack, System.nanoTime()));
        best.ctx.write(request, best.ctx.voidPromise());
        best.dirty = true;
        return true;
    }

    void flush() {
        for (Connection c : connections) {
            if (c.dirty) {
                c.dirty = false;
                c.ctx.flush();
            }
        }
    }

    int inFlight() {
        int total = 0;
        for (Connection c : connections) {
            total += c.pending.size();
        }
        return total;
    }

    void close() {
        for (Connection c : connections) {
            c.closing = true;
            if (c.ctx != null) {
                c.ctx.close();
            }
        }
    }

    private final class Connection extends ChannelInboundHandlerAdapter {

        final ArrayDeque<Pending> pending = new ArrayDeque<>();
        ChannelHandlerContext ctx;
        boolean dirty;
        boolean closing;
        private int status;

        boolean usable() {
            return ctx != null && !closing && ctx.channel().isActive();
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpResponse response) {
                    status = response.status().code();
                }
                if (msg instanceof LastHttpContent) {
                    Pending p = pending.poll();
                    if (p != null) {
                        p.ack.done(status, p.sentNanos);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            onReadComplete.run();
            flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            connections.remove(this);
            Pending p;
            while ((p = pending.poll()) != null) {
                p.ack.done(-1, p.sentNanos);
            }
            if (!closing) {
                // The server may end a keep-alive connection (request limits); open another in its place.
                loop.schedule(() -> connect().exceptionally(e -> null), 10, TimeUnit.MILLISECONDS);
            }
        }
    }

    static IOException failure(int status) {
        return new IOException("publish answered " + status);
    }
}
