package dev.broker.server.http;

import static dev.broker.server.testing.EmbeddedHttp.request;
import static dev.broker.server.testing.EmbeddedHttp.response;
import static dev.broker.server.testing.HttpAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.HttpResult;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.ReadTimeoutException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ExceptionHandler} at the end of the request handlers (behind the sequencer and CORS, as in the pipeline),
 * and at the end of a channel that no longer takes requests: what is answered, what is only closed.
 */
class ExceptionHandlerTest {

    /** Stands in for the router and the endpoints: keeps each request unanswered, with its slot. */
    private static final class Pending extends ChannelInboundHandlerAdapter {
        final List<SlottedRequest> requests = new ArrayList<>();
        ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            requests.add((SlottedRequest) msg);
        }
    }

    private final InFlightRequests inFlight = new InFlightRequests();
    private final Pending pending = new Pending();
    private EmbeddedChannel channel;

    private EmbeddedChannel takingRequests() {
        return new EmbeddedChannel(new RequestSequencer(inFlight), new CorsHandler("*"), pending, new ExceptionHandler());
    }

    @AfterEach
    void tearDown() {
        pending.requests.forEach(SlottedRequest::release);
        assertFalse(channel.finishAndReleaseAll(), "nothing left unread in the channel");
    }

    @Test
    void closesAVanishedPeerQuietly() {
        channel = takingRequests();

        channel.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));

        assertTrue(channel.outboundMessages().isEmpty(), "nobody is there to read an answer");
        assertFalse(channel.isOpen());
    }

    @Test
    void closesAnIdlePeerQuietly() {
        channel = takingRequests();

        channel.pipeline().fireExceptionCaught(ReadTimeoutException.INSTANCE);

        assertTrue(channel.outboundMessages().isEmpty());
        assertFalse(channel.isOpen());
    }

    @Test
    void answersADecodingFailureWith400AndCloses() {
        channel = takingRequests();

        channel.pipeline().fireExceptionCaught(new DecoderException("garbage"));

        HttpResult result = response(channel);
        assertError(400, result);
        assertEquals("close", result.header("Connection"));
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
    }

    @Test
    void answersAnyOtherFailureWith500AndCloses() {
        channel = takingRequests();

        channel.pipeline().fireExceptionCaught(new IllegalStateException("a bug"));

        HttpResult result = response(channel);
        assertEquals("internal error", assertError(500, result));
        assertEquals("close", result.header("Connection"));
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
    }

    @Test
    void itsAnswerIsTheLastWordsOfTheConnectionInTheOldestRequestsTurn() throws InterruptedException {
        channel = takingRequests();
        channel.writeInbound(request(HttpMethod.POST, "/1"), request(HttpMethod.POST, "/2"));
        HttpResponses.json(pending.ctx, pending.requests.get(1).slot(), HttpResponseStatus.OK,
                Unpooled.copiedBuffer("{}", StandardCharsets.US_ASCII));

        channel.pipeline().fireExceptionCaught(new IllegalStateException("a bug"));

        assertError(500, response(channel));
        assertTrue(channel.outboundMessages().isEmpty(), "the held answer to the second request is dropped");
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertTrue(inFlight.awaitIdle(0, TimeUnit.MILLISECONDS), "both requests are done with");
        HttpResponses.json(pending.ctx, pending.requests.get(0).slot(), HttpResponseStatus.OK,
                Unpooled.copiedBuffer("{}", StandardCharsets.US_ASCII));
        assertTrue(channel.outboundMessages().isEmpty(), "a late answer is released, not written");
    }

    @Test
    void onAChannelThatNoLongerTakesRequestsOnlyCloses() {
        // A stream, or an HTTP/2 connection's own pipeline: no sequencer, nothing to answer.
        channel = new EmbeddedChannel(pending, new ExceptionHandler());

        channel.pipeline().fireExceptionCaught(new IllegalStateException("a bug"));

        assertTrue(channel.outboundMessages().isEmpty());
        assertFalse(channel.isOpen());
    }
}
