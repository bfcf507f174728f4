package dev.broker.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;

/**
 * Pipelined requests run concurrently; their responses leave in request order (RFC 9112 §9.3.2).
 *
 * <p><b>Slots.</b> Each request it dispatches gets the next ordinal of the connection (0, 1, 2, …) in a
 * {@link ResponseSlot}, and travels on in a {@link SlottedRequest}: every handler after this one answers through the
 * slot it was given. The response of the oldest request is written at once, and with it every complete response
 * already held for the requests after it; a response whose turn has not come is held (only complete responses can be
 * held). The caller's flush then sends the whole run. Two kinds of write carry no slot: the body of the response
 * being written, which follows its head; and the connection's last words (the exception handler's), which answer
 * the oldest request not yet answered, or go out at once when none is under way.
 *
 * <p><b>What runs concurrently.</b> Only well-formed {@code POST}s overlap (but {@code /list_users}, whose answer
 * may be streamed), up to {@link #MAX_IN_FLIGHT} per
 * connection. Every other request (a {@code GET}, which may turn the connection into an SSE stream and remove this
 * handler; a preflight; a malformed or oversized request, which ends the connection) waits until every request
 * before it is answered, and nothing after it is dispatched until it is answered. Requests that cannot be dispatched
 * yet wait here, in order, and the channel stops reading ({@code autoRead} off) until they have all been dispatched;
 * what one read already brought is queued, up to {@link #MAX_WAITING}, beyond which the connection is closed.
 *
 * <p><b>The end of a connection.</b> After a request that does not keep the connection alive nothing more is
 * dispatched, and later requests are released unread. When a response that closes the connection
 * ({@code Connection: close}) is written, the requests after it are abandoned: their responses, held or still to
 * come, are released, never written.
 *
 * <p><b>Shutdown.</b> Counts every dispatched request in {@link InFlightRequests} until its response is written (or
 * abandoned, or the connection closes), and once shutdown began answers each new request with {@code 503} and
 * {@code Connection: close}, in its turn.
 */
public final class RequestSequencer extends ChannelDuplexHandler {

    /** Requests dispatched and not yet answered, per connection. A power of two (it sizes the ring of held responses). */
    static final int MAX_IN_FLIGHT = 16;
    /** Requests read but not yet dispatched, per connection; one more closes the connection. */
    static final int MAX_WAITING = 256;

    private static final System.Logger LOG = System.getLogger(RequestSequencer.class.getName());

    private final InFlightRequests inFlight;
    /** This channel's loop's count of requests under way (taken when the handler is added). */
    private InFlightRequests.LoopCounter counted;
    /** The ordinal of the next request dispatched. */
    private long next;
    /** The ordinal of the oldest request whose response is not completely written; head to next - 1 are in flight. */
    private long head;
    /** Complete responses to requests after {@code head}, waiting for their turn; indexed by ordinal. */
    private final FullHttpResponse[] held = new FullHttpResponse[MAX_IN_FLIGHT];
    private final ChannelPromise[] heldPromises = new ChannelPromise[MAX_IN_FLIGHT];
    /** The request in flight must not overlap with any other (it is then the only one). */
    private boolean alone;
    /** Nothing more will be dispatched on this connection. */
    private boolean ending;
    private ArrayDeque<FullHttpRequest> waiting;
    private boolean readingPaused;
    private boolean pumpScheduled;

    public RequestSequencer(InFlightRequests inFlight) {
        this.inFlight = inFlight;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        counted = inFlight.on(ctx.executor());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (ending) {
            request.release();
            return;
        }
        if ((waiting == null || waiting.isEmpty()) && mayDispatch(request)) {
            dispatch(ctx, request);
            return;
        }
        if (waiting == null) {
            waiting = new ArrayDeque<>(4);
        }
        if (waiting.size() >= MAX_WAITING) {
            request.release();
            ctx.close();
            return;
        }
        waiting.add(request);
        if (!readingPaused) {
            readingPaused = true;
            ctx.channel().config().setAutoRead(false);
        }
    }

    /**
     * A request that may overlap with others: nothing it leads to can turn the connection into a stream or end it,
     * and its response is complete in one message.
     */
    private static boolean concurrent(FullHttpRequest request) {
        return request.decoderResult().isSuccess() && HttpMethod.POST.equals(request.method())
                && !mayStreamItsResponse(request.uri());
    }

    /**
     * {@code POST /list_users} may answer with a streamed body (every user, page by page), whose chunks carry no slot
     * and so must be the oldest request's: it runs alone, like a {@code GET}.
     */
    private static boolean mayStreamItsResponse(String uri) {
        return uri.startsWith(STREAMED_PATH)
                && (uri.length() == STREAMED_PATH.length() || uri.charAt(STREAMED_PATH.length()) == '?');
    }

    private static final String STREAMED_PATH = "/list_users";

    private boolean mayDispatch(FullHttpRequest request) {
        long inFlightNow = next - head;
        return inFlightNow == 0 || !alone && inFlightNow < MAX_IN_FLIGHT && concurrent(request);
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest request) {
        ResponseSlot slot = new ResponseSlot(next++, HttpUtil.isKeepAlive(request));
        counted.begin();
        alone = !concurrent(request);
        if (!slot.keepAlive()) {
            stopDispatching();
        }
        if (inFlight.draining()) {
            request.release();
            stopDispatching();
            // Written from the tail, like every other response: through CORS, and through write() below, which
            // puts it in this request's turn.
            HttpResponses.send(ctx.channel(), slot.closing(), HttpResponses.errorResponse(ctx.alloc(),
                    HttpResponseStatus.SERVICE_UNAVAILABLE, "server is shutting down"));
        } else {
            ctx.fireChannelRead(new SlottedRequest(request, slot));
        }
    }

    /** No request after those dispatched will be: releases the waiting ones, drops those still to come. */
    private void stopDispatching() {
        ending = true;
        releaseWaiting();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof SlottedResponse slotted) {
            place(ctx, slotted.slot().ordinal(), slotted.response(), promise);
        } else if (msg instanceof HttpObject && head < next) {
            // The body of the response being written, or the connection's last words: the oldest request's.
            place(ctx, head, msg, promise);
        } else if (msg instanceof HttpObject) {
            // Nothing is in flight: an unsolicited response (the exception handler's, say) goes out as it is.
            writeInTurn(ctx, msg, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    /** Writes or holds a message of the response to request {@code ordinal}. */
    private void place(ChannelHandlerContext ctx, long ordinal, Object msg, ChannelPromise promise) {
        if (ordinal < head || ordinal >= next) {
            // Its request was answered already or abandoned when the connection began to close.
            drop(msg, promise);
        } else if (ordinal > head) {
            hold(ctx, ordinal, msg, promise);
        } else {
            writeInTurn(ctx, msg, promise);
            writeHeldRun(ctx);
        }
    }

    /** Writes a message of the oldest request's response; updates the state first, should the write re-enter. */
    private void writeInTurn(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response && !HttpUtil.isKeepAlive(response)) {
            abandonAfter(head);
        }
        if (msg instanceof LastHttpContent && head < next) {
            head++;
            alone = false;
            counted.end();
        }
        ctx.write(msg, promise);
    }

    /** Writes the held responses whose turn has come, then lets waiting requests in. */
    private void writeHeldRun(ChannelHandlerContext ctx) {
        while (head < next) {
            int index = index(head);
            FullHttpResponse response = held[index];
            if (response == null) {
                break;
            }
            ChannelPromise promise = heldPromises[index];
            held[index] = null;
            heldPromises[index] = null;
            writeInTurn(ctx, response, promise);
        }
        if (waiting != null && !waiting.isEmpty() && !pumpScheduled) {
            // From a fresh task: this write may come from deep inside another request's handling.
            pumpScheduled = true;
            ctx.executor().execute(() -> dispatchWaiting(ctx));
        }
    }

    private void hold(ChannelHandlerContext ctx, long ordinal, Object msg, ChannelPromise promise) {
        int index = index(ordinal);
        if (!(msg instanceof FullHttpResponse response) || held[index] != null) {
            // Only POSTs overlap, and their endpoints answer once, completely: this is a bug, not a client's doing.
            LOG.log(Level.ERROR, "out-of-turn " + msg.getClass().getSimpleName() + " for request " + ordinal
                    + " on " + ctx.channel() + "; closing the connection");
            drop(msg, promise);
            ctx.close();
            return;
        }
        held[index] = response;
        heldPromises[index] = promise;
    }

    /** The connection closes after the response to {@code ordinal}: the requests after it are abandoned. */
    private void abandonAfter(long ordinal) {
        stopDispatching();
        for (long abandoned = ordinal + 1; abandoned < next; abandoned++) {
            releaseHeld(abandoned);
            counted.end();
        }
        next = Math.min(next, ordinal + 1);
    }

    private void dispatchWaiting(ChannelHandlerContext ctx) {
        pumpScheduled = false;
        if (ctx.isRemoved()) {
            return;
        }
        while (!ending && waiting != null && !waiting.isEmpty() && mayDispatch(waiting.peek())) {
            dispatch(ctx, waiting.poll());
        }
        if ((waiting == null || waiting.isEmpty()) && readingPaused && !ending) {
            readingPaused = false;
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        for (long ordinal = head; ordinal < next; ordinal++) {
            releaseHeld(ordinal);
            counted.end();
        }
        head = next;
        releaseWaiting();
        ending = true;
        if (readingPaused) {
            // Removed by the SSE upgrade: the stream reads on (to notice the client leaving).
            readingPaused = false;
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void releaseHeld(long ordinal) {
        int index = index(ordinal);
        if (held[index] != null) {
            drop(held[index], heldPromises[index]);
            held[index] = null;
            heldPromises[index] = null;
        }
    }

    private void releaseWaiting() {
        if (waiting != null) {
            waiting.forEach(ReferenceCountUtil::release);
            waiting.clear();
        }
    }

    private static void drop(Object msg, ChannelPromise promise) {
        ReferenceCountUtil.release(msg);
        if (!promise.isVoid()) {
            promise.tryFailure(new ClosedChannelException());
        }
    }

    private static int index(long ordinal) {
        return (int) (ordinal & (MAX_IN_FLIGHT - 1));
    }
}
