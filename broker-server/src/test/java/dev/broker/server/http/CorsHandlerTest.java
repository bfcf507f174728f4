package dev.broker.server.http;

import static dev.broker.server.testing.HttpAssertions.tokens;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link CorsHandler} behind the {@link RequestSequencer} that gives each request its slot: preflights answered
 * with 204, the allowed origin added to every outbound response.
 */
class CorsHandlerTest {

    private EmbeddedChannel channel;

    private static EmbeddedChannel cors(String origin) {
        return new EmbeddedChannel(new RequestSequencer(new InFlightRequests()), new CorsHandler(origin));
    }

    @AfterEach
    void releaseEverything() {
        if (channel != null) {
            assertFalse(channel.finishAndReleaseAll(), "nothing left unread in the channel");
        }
    }

    private static FullHttpRequest request(HttpMethod method, String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.buffer(0));
    }

    @Test
    void answersAPreflightWith204AndTheAllowedMethodsAndHeaders() {
        channel = cors("*");
        FullHttpRequest preflight = request(HttpMethod.OPTIONS, "/insert");
        preflight.headers().set(HttpHeaderNames.ORIGIN, "https://app.example.com")
                .set(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD, "POST");

        assertFalse(channel.writeInbound(preflight), "a preflight goes no further");

        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(HttpResponseStatus.NO_CONTENT, response.status());
            assertEquals("*", response.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN));
            assertTrue(tokens(response.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS))
                    .containsAll(List.of("get", "post", "options")));
            assertTrue(tokens(response.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS))
                    .containsAll(List.of("authorization", "content-type", "last-event-id")));
            assertEquals(0, response.content().readableBytes());
            assertEquals("0", response.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        } finally {
            response.release();
        }
        assertEquals(0, preflight.refCnt(), "the preflight request was released");
        assertEquals(0, response.refCnt());
        assertTrue(channel.isActive(), "a keep-alive preflight keeps the connection");
    }

    @Test
    void closesAfterAPreflightThatDoesNotKeepTheConnectionAlive() {
        channel = cors("*");

        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.OPTIONS, "/insert", Unpooled.buffer(0)));

        FullHttpResponse response = channel.readOutbound();
        assertEquals(HttpResponseStatus.NO_CONTENT, response.status());
        assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        response.release();
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
    }

    @Test
    void passesOtherRequestsOnUntouched() {
        channel = cors("*");
        FullHttpRequest get = request(HttpMethod.GET, "/healthz");

        channel.writeInbound(get);

        SlottedRequest passed = channel.readInbound();
        assertSame(get, passed.request());
        assertNull(channel.readOutbound());
        assertEquals(1, get.refCnt());
        passed.release();
    }

    @Test
    void leavesAMalformedPreflightForTheRouter() {
        channel = cors("*");
        FullHttpRequest malformed = request(HttpMethod.OPTIONS, "/bad-request");
        malformed.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad")));

        channel.writeInbound(malformed);

        SlottedRequest passed = channel.readInbound();
        assertSame(malformed, passed.request(), "a malformed OPTIONS is left for the router's 400");
        assertNull(channel.readOutbound());
        passed.release();
    }

    @Test
    void answersAPipelinedPreflightInItsTurn() {
        channel = cors("*");
        FullHttpRequest insert = request(HttpMethod.POST, "/insert");
        FullHttpRequest preflight = request(HttpMethod.OPTIONS, "/insert");

        channel.writeInbound(insert, preflight);

        assertNull(channel.readOutbound(), "the preflight's answer waits for the insert's");
        SlottedRequest first = channel.readInbound();
        HttpResponses.error(channel.pipeline().context(CorsHandler.class), first.slot(), HttpResponseStatus.CONFLICT,
                "first");
        first.release();
        channel.runPendingTasks();
        FullHttpResponse answer = channel.readOutbound();
        assertEquals(HttpResponseStatus.CONFLICT, answer.status());
        answer.release();
        FullHttpResponse preflightAnswer = channel.readOutbound();
        assertEquals(HttpResponseStatus.NO_CONTENT, preflightAnswer.status());
        preflightAnswer.release();
        assertEquals(0, preflight.refCnt());
    }

    @Test
    void addsTheAllowedOriginToEveryOutboundResponse() {
        channel = cors("*");
        for (HttpResponseStatus status : List.of(HttpResponseStatus.OK, HttpResponseStatus.NOT_FOUND,
                HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, HttpResponseStatus.UNAUTHORIZED)) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer("{}", StandardCharsets.US_ASCII));

            channel.writeOutbound(response);

            FullHttpResponse written = channel.readOutbound();
            assertSame(response, written);
            assertEquals("*", written.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN), status.toString());
            assertTrue(written.release());
            assertEquals(0, written.refCnt());
        }
    }

    @Test
    void usesAConfiguredOriginAndVariesOnOrigin() {
        channel = cors("https://app.example.com");
        channel.writeInbound(request(HttpMethod.OPTIONS, "/sse"));
        FullHttpResponse preflight = channel.readOutbound();

        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.buffer(0)));
        FullHttpResponse response = channel.readOutbound();

        for (FullHttpResponse r : List.of(preflight, response)) {
            assertEquals("https://app.example.com", r.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN));
            assertEquals("origin", r.headers().get(HttpHeaderNames.VARY).toLowerCase(java.util.Locale.ROOT));
            r.release();
            assertEquals(0, r.refCnt());
        }
    }

    @Test
    void leavesNonResponseWritesAlone() {
        channel = cors("*");
        var frame = Unpooled.copiedBuffer("id:1\nevent:e\ndata:1\n\n", StandardCharsets.US_ASCII);

        channel.writeOutbound(frame);

        var written = channel.<io.netty.buffer.ByteBuf>readOutbound();
        assertSame(frame, written);
        written.release();
        assertEquals(0, frame.refCnt());
    }
}
