package dev.broker.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A deadline for receiving each whole request, head and body: from its first byte until its last. A client that
 * has not sent the whole request by then gets a {@code 408} and the connection is closed (it is just closed when
 * an earlier request is still being answered: the {@code 408} could not be told apart from that answer), however
 * many bytes it trickled meanwhile. The time between requests is the idle timeout's business, not this one's.
 *
 * <p>It takes two handlers, since the bytes and the requests are seen on either side of the codec: {@link #bytes}
 * before it, which starts the clock on the first byte read while no request is arriving, and this handler after
 * it, which stops the clock when the request's last content is decoded and counts the requests owed a response.
 * Over HTTP/2 a stream's channel is opened by its complete header block, so there the clock starts when this handler
 * is added to the stream ({@link #forStream}) and {@link #bytes} is not used. While the server itself is not
 * reading (the sequencer's backpressure), the clock does not run out: it is started again.
 */
public final class RequestDeadline extends ChannelDuplexHandler {

    private final long timeoutNanos;
    private final boolean startAtOnce;
    private final ChannelHandler bytes = new FirstByte();
    private ChannelHandlerContext ctx;
    /** The one timer, or null; it may outlive the request it was set for and then sets itself again, or not. */
    private ScheduledFuture<?> clock;
    /** A request is arriving, since {@link #startedNanos}. */
    private boolean arriving;
    private long startedNanos;
    /** Requests whose head was decoded and whose response has not been written completely. */
    private int owed;
    /** The head of the request now arriving has been decoded (it is counted in {@link #owed}). */
    private boolean headSeen;

    private RequestDeadline(long timeout, TimeUnit unit, boolean startAtOnce) {
        this.timeoutNanos = unit.toNanos(timeout);
        this.startAtOnce = startAtOnce;
    }

    /** For an HTTP/1.1 connection: add {@link #bytes} before the codec and this handler after it. */
    public static RequestDeadline forConnection(long timeout, TimeUnit unit) {
        return new RequestDeadline(timeout, unit, false);
    }

    /** For an HTTP/2 stream, after its codec: the clock runs from now. */
    public static RequestDeadline forStream(long timeout, TimeUnit unit) {
        return new RequestDeadline(timeout, unit, true);
    }

    /** The handler that goes before the codec and starts the clock on a request's first byte. */
    public ChannelHandler bytes() {
        return bytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (startAtOnce) {
            start();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            owed++;
            headSeen = true;
        }
        if (msg instanceof LastHttpContent) {
            headSeen = false;
            stop();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent && owed > 0) {
            owed--;
        }
        ctx.write(msg, promise);
    }

    /**
     * A request began to arrive. The timer is not set and cancelled per request (a busy connection would pay for
     * both on every request); it is set when none is, and on firing it looks at the request arriving then.
     */
    private void start() {
        if (arriving || ctx == null || ctx.isRemoved()) {
            return;
        }
        arriving = true;
        startedNanos = ctx.executor().ticker().nanoTime();
        if (clock == null) {
            clock = ctx.executor().schedule(this::check, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void stop() {
        arriving = false;
    }

    private void cancel() {
        arriving = false;
        if (clock != null) {
            clock.cancel(false);
            clock = null;
        }
    }

    private void check() {
        clock = null;
        if (!arriving || ctx.isRemoved() || !ctx.channel().isActive()) {
            return;
        }
        long left = startedNanos + timeoutNanos - ctx.executor().ticker().nanoTime();
        if (left <= 0 && !ctx.channel().config().isAutoRead()) {
            // The server is not reading (it has requests to catch up with): the client cannot be blamed for the wait.
            startedNanos = ctx.executor().ticker().nanoTime();
            left = timeoutNanos;
        }
        if (left > 0) {
            clock = ctx.executor().schedule(this::check, left, TimeUnit.NANOSECONDS);
            return;
        }
        arriving = false;
        if (owed - (headSeen ? 1 : 0) > 0) {
            ctx.channel().close();
            return;
        }
        // From the tail, so that it passes the sequencer (nothing is under way: it goes out at once) and CORS.
        HttpResponses.lastWords(ctx.channel(), ctx.alloc(), HttpResponseStatus.REQUEST_TIMEOUT,
                "request not received in time");
    }

    /** Before the codec: the first bytes read while no request is arriving start the clock. */
    private final class FirstByte extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf && buf.isReadable()) {
                start();
            }
            ctx.fireChannelRead(msg);
        }
    }
}
