package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
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
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RequestSequencer} alone: one request at a time, the next one dispatched once a response is complete. */
class RequestSequencerTest {

    /** Stands in for the router: keeps what it is handed (the test releases it). */
    private static final class Capture extends ChannelInboundHandlerAdapter {
        final List<Object> received = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received.add(msg);
        }
    }

    private final InFlightRequests inFlight = new InFlightRequests();
    private final Capture capture = new Capture();
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new RequestSequencer(inFlight), capture);
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private static FullHttpRequest request(String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, Unpooled.buffer(0));
    }

    private static FullHttpResponse response() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.buffer(0));
    }

    /** Writes a complete response from the endpoint's side and reads it off the wire, released. */
    private void respond() {
        channel.writeOutbound(response());
        FullHttpResponse written = channel.readOutbound();
        assertTrue(written.release());
        assertEquals(0, written.refCnt());
        channel.runPendingTasks();
    }

    private boolean idle() throws InterruptedException {
        return inFlight.awaitIdle(0, TimeUnit.MILLISECONDS);
    }

    @Test
    void holdsTheSecondRequestUntilTheFirstResponseIsWritten() throws InterruptedException {
        FullHttpRequest first = request("/1");
        FullHttpRequest second = request("/2");

        channel.writeInbound(first, second);

        assertEquals(List.of(first), capture.received, "only the first request is dispatched");
        assertEquals(1, second.refCnt(), "the second is held, not dropped");
        assertFalse(channel.config().isAutoRead(), "reading stops while a request waits");
        assertFalse(idle(), "a request is in flight");

        respond();

        assertEquals(List.of(first, second), capture.received, "the second is dispatched after the first response");
        first.release();
        assertFalse(idle());

        respond();

        assertTrue(channel.config().isAutoRead(), "reading resumes once nothing waits");
        assertTrue(idle(), "nothing in flight once every request is answered");
        second.release();
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());
    }

    @Test
    void aResponseHeadAloneDoesNotCompleteTheExchange() {
        FullHttpRequest first = request("/1");
        FullHttpRequest second = request("/2");
        channel.writeInbound(first, second);

        channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        channel.runPendingTasks();

        assertEquals(List.of(first), capture.received, "still busy until the last content is written");
        channel.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        channel.runPendingTasks();
        assertEquals(List.of(first, second), capture.received);
        assertEquals(2, channel.outboundMessages().size());
        first.release();
        second.release();
    }

    @Test
    void passesOtherMessagesThrough() {
        Object other = "not a request";

        channel.writeInbound(other);

        assertEquals(List.of(other), capture.received);
    }

    @Test
    void closesAndReleasesEverythingWhenTooManyRequestsArePipelined() {
        List<FullHttpRequest> requests = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            requests.add(request("/" + i));
        }

        channel.writeInbound(requests.toArray());
        channel.runPendingTasks();

        assertFalse(channel.isOpen(), "a client that pipelines without bound is disconnected");
        assertEquals(1, capture.received.size());
        requests.get(0).release();
        for (FullHttpRequest request : requests) {
            assertEquals(0, request.refCnt(), "every held request was released: " + request.uri());
        }
    }

    @Test
    void releasesHeldRequestsWhenTheConnectionCloses() throws InterruptedException {
        FullHttpRequest first = request("/1");
        FullHttpRequest second = request("/2");
        FullHttpRequest third = request("/3");
        channel.writeInbound(first, second, third);

        channel.close().syncUninterruptibly();
        channel.runPendingTasks();

        assertEquals(0, second.refCnt());
        assertEquals(0, third.refCnt());
        assertTrue(idle(), "a closed connection has nothing in flight");
        first.release();
    }

    @Test
    void refusesNewRequestsWith503WhileShuttingDown() throws InterruptedException {
        inFlight.startDraining();
        FullHttpRequest request = request("/healthz");

        channel.writeInbound(request);

        FullHttpResponse response = channel.readOutbound();
        assertEquals(HttpResponseStatus.SERVICE_UNAVAILABLE, response.status());
        assertTrue(response.content().toString(java.nio.charset.StandardCharsets.UTF_8).contains("\"error\""));
        response.release();
        assertEquals(0, response.refCnt());
        assertEquals(0, request.refCnt());
        assertTrue(capture.received.isEmpty());
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertTrue(idle(), "the refused request is not counted as under way");
        assertNull(channel.readOutbound());
        assertSame(null, channel.readInbound());
    }
}
