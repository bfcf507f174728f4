package dev.broker.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive publisher connections, each with up to {@code depth} pipelined requests in flight, all on one event
 * loop: call every method on {@link #loop()}. Requests go out as raw bytes; responses are read with a lean HTTP
 * parser and matched to their requests in order. Writes are batched: {@link #offer} writes, {@link #flush} (or the
 * end of a read) sends.
 *
 * <p>With {@link #checkAcknowledgements}, pipelining is verified rather than trusted: each accepted response must
 * acknowledge the event of the request it is matched with, and the ids it carries must increase along the
 * connection (the server appends one connection's requests in order). A response that fails the check is reported
 * as {@link #MISMATCHED} and the connection is closed (its other requests fail): nothing after it can be matched.
 * So is a response that arrives with no request outstanding.
 */
final class Publishers {

    /**
     * The answer to one publish; {@code status} is -1 when the connection failed first, {@link #MISMATCHED} when the
     * response did not answer this request.
     */
    interface Ack {
        void done(int status, long sentNanos);
    }

    /** The status reported for a response that acknowledged another event, or out of order. */
    static final int MISMATCHED = -2;

    private record Pending(Ack ack, long sentNanos, String event) {
    }

    private final LoadClient client;
    private final EventLoop loop;
    private final int depth;
    private final List<Connection> connections = new ArrayList<>();
    private boolean mismatchReported;
    private int cursor;
    private Runnable onReadComplete = () -> { };
    private boolean fillScheduled;
    private final Runnable fillAfterReads = () -> {
        fillScheduled = false;
        onReadComplete.run();
        flush();
    };
    private Target.Stream acknowledgements;

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

    /** Checks every accepted response to an {@link #offer(ByteBuf, String, Ack) offer naming its event} against it. */
    void checkAcknowledgements(Target.Stream stream) {
        this.acknowledgements = stream;
    }

    /** Runs after every batch of responses read (for closed-loop senders: send the next requests there). */
    void onReadComplete(Runnable action) {
        this.onReadComplete = action;
    }

    private CompletableFuture<Void> connect() {
        CompletableFuture<Void> connected = new CompletableFuture<>();
        Connection connection = new Connection();
        Bootstrap bootstrap = client.bootstrap(loop).handler(client.secured(new io.netty.channel.ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(connection);
            }
        }, -1));
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
        return offer(request, null, ack);
    }

    /** Like {@link #offer(ByteBuf, Ack)}, for a publish of {@code event}, which the response must acknowledge. */
    boolean offer(ByteBuf request, String event, Ack ack) {
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
        best.pending.add(new Pending(ack, System.nanoTime(), event));
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

    private final class Connection extends ChannelInboundHandlerAdapter implements ResponseParser.Sink {

        final ArrayDeque<Pending> pending = new ArrayDeque<>();
        ChannelHandlerContext ctx;
        boolean dirty;
        boolean closing;
        private final ResponseParser parser = new ResponseParser(this);
        private int status;
        /** The largest id acknowledged on this connection. */
        private long lastId;

        boolean usable() {
            return ctx != null && !closing && ctx.channel().isActive();
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                parser.read(in);
            } catch (IOException | RuntimeException e) {
                mismatch(ctx, "an unreadable response: " + e.getMessage());
            } finally {
                in.release();
            }
        }

        @Override
        public boolean wantsBody() {
            Pending next = pending.peek();
            return acknowledgements != null && next != null && next.event != null;
        }

        @Override
        public void response(int status, String body) {
            this.status = status;
            Pending p = pending.poll();
            if (p == null) {
                mismatch(ctx, "a response with no request outstanding");
            } else if (body != null && !acknowledges(p.event, body)) {
                p.ack.done(MISMATCHED, p.sentNanos);
                mismatch(ctx, "the response to a publish of '" + p.event + "' was: " + body);
            } else {
                p.ack.done(status, p.sentNanos);
            }
        }

        /** Whether the response (its status in {@code status}) may answer a publish of {@code event}. */
        private boolean acknowledges(String event, String text) {
            if (status < 200 || status >= 300) {
                return true; // a refusal: counted as a failure by the caller, carries no id
            }
            long id = acknowledgements.acknowledgedId(event, text);
            if (id < 0 || id > 0 && id <= lastId) {
                return false;
            }
            lastId = Math.max(lastId, id);
            return true;
        }

        private void mismatch(ChannelHandlerContext ctx, String what) {
            if (!mismatchReported) {
                mismatchReported = true;
                System.err.println("publishers: responses out of step with requests (" + what + "); closing");
            }
            ctx.close();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // Once per turn of the loop, after every connection's read: one pass tops all of them up.
            if (!fillScheduled) {
                fillScheduled = true;
                loop.execute(fillAfterReads);
            }
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
