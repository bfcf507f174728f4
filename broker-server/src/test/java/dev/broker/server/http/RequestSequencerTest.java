package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RequestSequencer} alone: pipelined POSTs are dispatched at once, their responses leave in request order;
 * anything else runs alone; the bound on requests in flight; shutdown refusals; the end of a connection.
 */
class RequestSequencerTest {

    /**
     * Stands in for the router and the endpoints: keeps each request with the slot it came with (the test answers
     * later, through {@link HttpResponses}, and releases the request); answers {@code /now} in place, through its slot.
     */
    private static final class Endpoints extends ChannelInboundHandlerAdapter {
        final List<FullHttpRequest> received = new ArrayList<>();
        final List<ResponseSlot> slots = new ArrayList<>();
        ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof SlottedRequest slotted)) {
                received.add(null);
                return;
            }
            received.add(slotted.request());
            slots.add(slotted.slot());
            if (slotted.request().uri().equals("/now")) {
                HttpResponses.json(ctx, slotted.slot(), HttpResponseStatus.OK,
                        Unpooled.copiedBuffer("/now", StandardCharsets.UTF_8));
            }
        }

        /** Answers the n-th request received, its body naming the request. */
        void answer(int n) {
            ResponseSlot slot = slots.get(n);
            HttpResponses.json(ctx, slot, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(received.get(n).uri(), StandardCharsets.UTF_8));
        }

        void releaseAll() {
            for (FullHttpRequest request : received) {
                if (request != null && request.refCnt() > 0) {
                    request.release();
                }
            }
        }
    }

    private final InFlightRequests inFlight = new InFlightRequests();
    private final Endpoints endpoints = new Endpoints();
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new RequestSequencer(inFlight), endpoints);
    }

    @AfterEach
    void tearDown() {
        endpoints.releaseAll();
        channel.finishAndReleaseAll();
    }

    private static FullHttpRequest post(String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri, Unpooled.buffer(0));
    }

    private static FullHttpRequest get(String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, Unpooled.buffer(0));
    }

    private static List<FullHttpRequest> posts(int count) {
        List<FullHttpRequest> requests = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            requests.add(post("/" + i));
        }
        return requests;
    }

    /** The bodies of the responses written so far, in order, each released. */
    private List<String> written() {
        List<String> bodies = new ArrayList<>();
        for (Object msg; (msg = channel.readOutbound()) != null; ) {
            FullHttpResponse response = (FullHttpResponse) msg;
            bodies.add(response.content().toString(StandardCharsets.UTF_8));
            assertTrue(response.release());
        }
        return bodies;
    }

    private boolean idle() throws InterruptedException {
        return inFlight.awaitIdle(0, TimeUnit.MILLISECONDS);
    }

    @Test
    void dispatchesPipelinedPostsAtOnceAndWritesTheirResponsesInRequestOrder() throws InterruptedException {
        channel.writeInbound(post("/a"), post("/b"), post("/c"));

        assertEquals(3, endpoints.received.size(), "all three are dispatched without waiting");
        assertEquals(List.of(0L, 1L, 2L), endpoints.slots.stream().map(ResponseSlot::ordinal).toList());
        assertTrue(channel.config().isAutoRead(), "nothing waits, so reading goes on");

        endpoints.answer(2);
        endpoints.answer(1);
        assertEquals(List.of(), written(), "later requests answered first are held");
        assertFalse(idle());

        endpoints.answer(0);
        assertEquals(List.of("/a", "/b", "/c"), written(), "the first response releases the run, in order");
        assertTrue(idle(), "nothing in flight once every response is written");
    }

    @Test
    void anAnswerWrittenWhileItsRequestIsDispatchedWaitsForTheRequestsBeforeIt() {
        channel.writeInbound(post("/slow"), post("/now"), post("/later"));

        assertEquals(List.of(), written(), "the in-place answer to the second request waits for the first");
        endpoints.answer(0);
        assertEquals(List.of("/slow", "/now"), written());
        endpoints.answer(2);
        assertEquals(List.of("/later"), written());
    }

    @Test
    void aGetWaitsForEverythingBeforeItAndHoldsEverythingAfterIt() {
        channel.writeInbound(post("/1"), get("/2"), post("/3"));

        assertEquals(1, endpoints.received.size(), "a GET (it may become a stream) does not overlap");
        assertFalse(channel.config().isAutoRead(), "reading stops while requests wait");

        endpoints.answer(0);
        channel.runPendingTasks();
        assertEquals(2, endpoints.received.size(), "the GET is dispatched once the request before it is answered");
        assertEquals("/2", endpoints.received.get(1).uri());
        assertFalse(channel.config().isAutoRead());

        endpoints.answer(1);
        channel.runPendingTasks();
        assertEquals(3, endpoints.received.size());
        assertTrue(channel.config().isAutoRead(), "reading resumes once nothing waits");
        endpoints.answer(2);
        assertEquals(List.of("/1", "/2", "/3"), written());
    }

    @Test
    void aResponseHeadAloneDoesNotCompleteTheExchange() {
        channel.writeInbound(get("/1"), get("/2"));

        // A head whose body follows unframed (as the SSE head's does), then the body, which needs no slot.
        endpoints.slots.get(0).writeAndFlush(endpoints.ctx,
                new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        channel.runPendingTasks();

        assertEquals(1, endpoints.received.size(), "still in flight until the last content is written");
        channel.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        channel.runPendingTasks();
        assertEquals(2, endpoints.received.size());
        assertEquals(2, channel.outboundMessages().size());
    }

    @Test
    void theConnectionsLastWordsAnswerTheOldestRequestAndAbandonTheRest() throws InterruptedException {
        channel.writeInbound(post("/1"), post("/2"), post("/3"));
        endpoints.answer(2);

        HttpResponses.lastWords(endpoints.ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error");

        List<String> bodies = written();
        assertEquals(1, bodies.size(), "only the last words are written: " + bodies);
        assertTrue(bodies.get(0).contains("internal error"));
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertTrue(idle(), "the abandoned requests are no longer counted");
        endpoints.answer(0);
        endpoints.answer(1);
        assertEquals(List.of(), written(), "answers to abandoned requests are dropped");
    }

    @Test
    void anAnswerThroughASlotNobodyHoldsAnyMoreIsReleased() {
        channel.writeInbound(post("/1"));
        endpoints.answer(0);
        assertEquals(List.of("/1"), written());

        FullHttpResponse again = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer("again", StandardCharsets.UTF_8));
        HttpResponses.send(endpoints.ctx, endpoints.slots.get(0), again);

        assertEquals(List.of(), written(), "a second answer to the same request is dropped");
        assertEquals(0, again.refCnt());
        assertTrue(channel.isOpen());
    }

    @Test
    void boundsTheRequestsInFlightAndStopsReadingBeyond() throws InterruptedException {
        int count = RequestSequencer.MAX_IN_FLIGHT + 4;
        channel.writeInbound(posts(count).toArray());

        assertEquals(RequestSequencer.MAX_IN_FLIGHT, endpoints.received.size());
        assertFalse(channel.config().isAutoRead(), "a full connection stops reading");

        endpoints.answer(0);
        channel.runPendingTasks();
        assertEquals(RequestSequencer.MAX_IN_FLIGHT + 1, endpoints.received.size(), "an answer lets one more in");

        for (int i = 1; i < count; i++) {
            endpoints.answer(i);
            channel.runPendingTasks();
        }
        assertEquals(count, endpoints.received.size());
        assertEquals(count, written().size());
        assertTrue(channel.config().isAutoRead());
        assertTrue(idle());
    }

    @Test
    void closesAndReleasesEverythingWhenTooManyRequestsArePipelined() throws InterruptedException {
        List<FullHttpRequest> requests = posts(RequestSequencer.MAX_IN_FLIGHT + RequestSequencer.MAX_WAITING + 1);

        channel.writeInbound(requests.toArray());
        channel.runPendingTasks();

        assertFalse(channel.isOpen(), "a client that pipelines without bound is disconnected");
        assertEquals(RequestSequencer.MAX_IN_FLIGHT, endpoints.received.size());
        endpoints.releaseAll();
        for (FullHttpRequest request : requests) {
            assertEquals(0, request.refCnt(), "every waiting request was released: " + request.uri());
        }
        assertTrue(idle());
    }

    @Test
    void releasesHeldResponsesAndWaitingRequestsWhenTheConnectionCloses() throws InterruptedException {
        FullHttpRequest waiting = get("/3");
        channel.writeInbound(post("/1"), post("/2"), waiting);
        endpoints.answer(1);

        channel.close().syncUninterruptibly();
        channel.runPendingTasks();

        assertEquals(0, waiting.refCnt());
        assertTrue(idle(), "a closed connection has nothing in flight");
        endpoints.answer(0); // too late: the handler is gone and the write fails
        assertEquals(List.of(), written());
    }

    @Test
    void aResponseThatClosesTheConnectionAbandonsTheRequestsAfterIt() throws InterruptedException {
        channel.writeInbound(post("/1"), post("/2"), post("/3"));
        endpoints.answer(1);

        HttpResponses.error(endpoints.ctx, endpoints.slots.get(0).closing(), HttpResponseStatus.INTERNAL_SERVER_ERROR,
                "boom");
        List<String> bodies = written();
        assertEquals(1, bodies.size(), "only the closing response is written: " + bodies);
        assertTrue(bodies.get(0).contains("boom"));
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertTrue(idle(), "the abandoned requests are no longer counted");

        endpoints.answer(2); // an abandoned request's late answer is dropped
        assertEquals(List.of(), written());
    }

    @Test
    void nothingIsDispatchedAfterARequestThatClosesTheConnection() {
        FullHttpRequest last = post("/1");
        last.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        FullHttpRequest after = post("/2");

        channel.writeInbound(last, after);

        assertEquals(1, endpoints.received.size());
        assertEquals(0, after.refCnt(), "a request after the last one is released unread");
        assertFalse(endpoints.slots.get(0).keepAlive());
    }

    @Test
    void refusesNewRequestsWith503WhileShuttingDown() throws InterruptedException {
        inFlight.startDraining();
        FullHttpRequest request = get("/healthz");

        channel.writeInbound(request);

        FullHttpResponse response = channel.readOutbound();
        assertEquals(HttpResponseStatus.SERVICE_UNAVAILABLE, response.status());
        assertTrue(response.content().toString(StandardCharsets.UTF_8).contains("\"error\""));
        response.release();
        assertEquals(0, request.refCnt());
        assertTrue(endpoints.received.isEmpty());
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertTrue(idle(), "the refused request is not counted as under way");
        assertNull(channel.readOutbound());
    }

    @Test
    void aRequestPipelinedAfterShutdownBeganIsRefusedInItsTurn() throws InterruptedException {
        channel.writeInbound(post("/accepted"));
        inFlight.startDraining();
        FullHttpRequest refused = post("/refused");
        FullHttpRequest dropped = post("/dropped");

        channel.writeInbound(refused, dropped);

        assertEquals(1, endpoints.received.size());
        assertEquals(0, refused.refCnt());
        assertEquals(0, dropped.refCnt(), "nothing is dispatched after the refusal");
        assertNull(channel.readOutbound(), "the refusal waits for the accepted request's response");
        assertFalse(idle(), "the accepted request is still under way");

        endpoints.answer(0);
        FullHttpResponse accepted = channel.readOutbound();
        FullHttpResponse refusal = channel.readOutbound();
        assertEquals(HttpResponseStatus.OK, accepted.status());
        assertEquals(HttpResponseStatus.SERVICE_UNAVAILABLE, refusal.status());
        assertEquals("close", refusal.headers().get(HttpHeaderNames.CONNECTION));
        accepted.release();
        refusal.release();
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertTrue(idle());
    }

    @Test
    void anUnsolicitedResponseWithNothingInFlightGoesOut() {
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST));

        FullHttpResponse response = channel.readOutbound();
        assertNotNull(response);
        response.release();
    }

    @Test
    void passesOtherMessagesThrough() {
        Object other = "not a request";

        channel.writeInbound(other);

        assertEquals(1, endpoints.received.size());
        assertNull(endpoints.received.get(0));
    }
}
