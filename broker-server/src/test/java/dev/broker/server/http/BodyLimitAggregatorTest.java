package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpContentException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link BodyLimitAggregator} alone: a body within the limit is aggregated; one over it is never answered here but
 * passed on, bodiless, flagged {@link TooLongHttpContentException}, for the router to refuse in the request's turn;
 * every piece of the refused body is released.
 */
class BodyLimitAggregatorTest {

    private static final int LIMIT = 16;

    private final EmbeddedChannel channel = new EmbeddedChannel(new BodyLimitAggregator(LIMIT));

    @AfterEach
    void tearDown() {
        assertFalse(channel.finishAndReleaseAll(), "nothing left unread in the channel");
    }

    private static HttpRequest head(String uri, int contentLength) {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri);
        head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, contentLength);
        return head;
    }

    private static HttpContent part(String text) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    private static LastHttpContent last(String text) {
        return new DefaultLastHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    /** The next request passed on, which must be a refused one: bodiless, flagged, with the head's headers. */
    private FullHttpRequest readRefused(String uri) {
        FullHttpRequest refused = channel.readInbound();
        assertEquals(uri, refused.uri());
        assertTrue(refused.decoderResult().isFailure());
        assertInstanceOf(TooLongHttpContentException.class, refused.decoderResult().cause());
        assertEquals(0, refused.content().readableBytes());
        refused.release();
        return refused;
    }

    @Test
    void aggregatesABodyWithinTheLimit() {
        HttpContent first = part("{\"a\":");
        LastHttpContent rest = last("1}");

        channel.writeInbound(head("/insert", 7), first, rest);

        FullHttpRequest request = channel.readInbound();
        assertTrue(request.decoderResult().isSuccess());
        assertEquals("{\"a\":1}", request.content().toString(StandardCharsets.US_ASCII));
        assertTrue(request.release());
        assertEquals(0, first.refCnt());
        assertEquals(0, rest.refCnt());
    }

    @Test
    void refusesABodyWhoseContentLengthIsOverTheLimitWithoutAnswering() {
        HttpContent first = part("0123456789");
        LastHttpContent rest = last("0123456789");

        channel.writeInbound(head("/insert", 20), first, rest);

        FullHttpRequest refused = readRefused("/insert");
        assertEquals("20", refused.headers().get(HttpHeaderNames.CONTENT_LENGTH), "the head's headers are kept");
        assertNull(channel.readInbound());
        assertNull(channel.readOutbound(), "the refusal is the router's, in turn");
        assertEquals(0, first.refCnt(), "the refused body was released");
        assertEquals(0, rest.refCnt());
    }

    @Test
    void refusesAChunkedBodyOnceItPassesTheLimitAndReleasesTheRest() {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/insert");
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        List<HttpContent> parts = List.of(part("0123456789"), part("0123456789"), last("0123456789"));

        channel.writeInbound(head);
        for (HttpContent piece : parts) {
            channel.writeInbound(piece);
        }

        readRefused("/insert");
        assertNull(channel.readInbound());
        for (HttpContent piece : parts) {
            assertEquals(0, piece.refCnt());
        }
    }

    @Test
    void aggregatesTheNextRequestAfterARefusedOne() {
        channel.writeInbound(head("/insert", 20), last("01234567890123456789"), head("/login", 2), last("{}"));

        readRefused("/insert");
        FullHttpRequest next = channel.readInbound();
        assertEquals("/login", next.uri());
        assertEquals("{}", next.content().toString(StandardCharsets.US_ASCII));
        assertTrue(next.release());
    }

    @Test
    void refusesAnOversizedExpectContinueInTurnInsteadOfWithItsOwn413() {
        HttpRequest head = head("/insert", 20);
        head.headers().set(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE);

        channel.writeInbound(head);

        assertNull(channel.readOutbound(), "neither 100 Continue nor a bodiless 413");
        readRefused("/insert");
    }

    @Test
    void answersAnAcceptableExpectContinueWith100() {
        HttpRequest head = head("/insert", 2);
        head.headers().set(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE);

        channel.writeInbound(head);
        FullHttpResponse goOn = channel.readOutbound();
        assertEquals(HttpResponseStatus.CONTINUE, goOn.status());
        assertEquals(0, goOn.content().readableBytes());
        goOn.release(); // a shared, bodiless response
        channel.writeInbound(last("{}"));

        FullHttpRequest request = channel.readInbound();
        assertEquals("{}", request.content().toString(StandardCharsets.US_ASCII));
        assertTrue(request.release());
    }
}
