package dev.broker.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.RequestSequencer;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RouteHandler} behind the {@link RequestSequencer} that gives each request its slot: 404 for an unknown
 * path, 405 for a wrong method, 400 and a close for malformed HTTP, 413 and a close for a body over the limit.
 */
class RouteHandlerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = router();
    }

    private static EmbeddedChannel router() {
        return new EmbeddedChannel(new RequestSequencer(new InFlightRequests()), new RouteHandler());
    }

    @AfterEach
    void tearDown() {
        assertFalse(channel.finishAndReleaseAll(), "nothing left unread in the channel");
    }

    private static FullHttpRequest request(HttpVersion version, HttpMethod method, String uri) {
        return new DefaultFullHttpRequest(version, method, uri, Unpooled.copiedBuffer("{}", StandardCharsets.US_ASCII));
    }

    /** Reads the one response written, checks its error body, releases it; returns it for header checks. */
    private FullHttpResponse readError(HttpResponseStatus expected) throws Exception {
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(expected, response.status());
            assertTrue(response.headers().get(HttpHeaderNames.CONTENT_TYPE).startsWith("application/json"));
            assertEquals(response.content().readableBytes(), response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH));
            JsonNode body = JSON.readTree(response.content().toString(StandardCharsets.UTF_8));
            assertTrue(body.path("error").isTextual() && !body.get("error").asText().isEmpty(), body.toString());
        } finally {
            response.release();
        }
        assertEquals(0, response.refCnt());
        assertNull(channel.readOutbound(), "exactly one response");
        return response;
    }

    @Test
    void answersAnUnknownPathWith404AndKeepsTheConnection() throws Exception {
        FullHttpRequest request = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/no-such-path?x=1");

        channel.writeInbound(request);

        readError(HttpResponseStatus.NOT_FOUND);
        assertEquals(0, request.refCnt(), "the request was released");
        assertNull(channel.readInbound());
        assertTrue(channel.isActive());
    }

    @Test
    void answersAWrongMethodWith405() throws Exception {
        FullHttpRequest request = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/insert");

        channel.writeInbound(request);

        readError(HttpResponseStatus.METHOD_NOT_ALLOWED);
        assertEquals(0, request.refCnt());
        assertNull(channel.readInbound());
        assertTrue(channel.isActive());
    }

    @Test
    void closesAfterAnErrorWhenTheRequestDoesNotKeepAlive() throws Exception {
        FullHttpRequest request = request(HttpVersion.HTTP_1_0, HttpMethod.GET, "/nope");

        channel.writeInbound(request);

        FullHttpResponse response = readError(HttpResponseStatus.NOT_FOUND);
        assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
    }

    @Test
    void answersMalformedHttpWith400AndCloses() throws Exception {
        FullHttpRequest request = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
        request.setDecoderResult(DecoderResult.failure(new TooLongHttpLineException("line too long")));

        channel.writeInbound(request);

        readError(HttpResponseStatus.BAD_REQUEST);
        assertEquals(0, request.refCnt());
        channel.runPendingTasks();
        assertFalse(channel.isOpen(), "malformed HTTP closes the connection");
    }

    @Test
    void passesAKnownRouteOnAsAnApiRequest() {
        FullHttpRequest request = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/sse?access_token=abc&last_event_id=7");

        channel.writeInbound(request);

        ApiRequest routed = channel.readInbound();
        assertEquals(Route.SSE, routed.route());
        assertSame(request, routed.http());
        assertEquals("abc", routed.queryParameter("access_token"));
        assertEquals("7", routed.queryParameter("last_event_id"));
        assertNull(routed.queryParameter("missing"));
        assertTrue(routed.slot().keepAlive());
        assertNull(channel.readOutbound(), "a routed request is not answered here");
        assertTrue(routed.release());
        assertEquals(0, request.refCnt(), "releasing the routed request releases the HTTP request");
    }

    @Test
    void answersABodyOverTheLimitWith413AndCloses() throws Exception {
        FullHttpRequest request = request(HttpVersion.HTTP_1_1, HttpMethod.POST, "/insert");
        request.setDecoderResult(DecoderResult.failure(new TooLongHttpContentException("body too large")));

        channel.writeInbound(request);

        FullHttpResponse response = readError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
        assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        assertEquals(0, request.refCnt());
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
    }

    @Test
    void routesEveryEndpointOfTheContract() {
        for (Route route : Route.values()) {
            EmbeddedChannel fresh = router();
            fresh.writeInbound(request(HttpVersion.HTTP_1_1, route.method(), route.path()));
            ApiRequest routed = fresh.readInbound();
            assertEquals(route, routed.route());
            routed.release();
            assertNull(fresh.readOutbound());
            assertFalse(fresh.finishAndReleaseAll());
        }
    }

    @Test
    void routesEveryPathUnderTheConsoleToItAndAllowsHeadThereOnly() throws Exception {
        for (String path : List.of("/console", "/console/", "/console/console.js", "/console/../etc/passwd")) {
            for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.HEAD)) {
                EmbeddedChannel fresh = router();
                fresh.writeInbound(request(HttpVersion.HTTP_1_1, method, path));
                ApiRequest routed = fresh.readInbound();
                assertEquals(Route.CONSOLE, routed.route(), method + " " + path);
                routed.release();
                assertFalse(fresh.finishAndReleaseAll());
            }
        }
        for (String path : List.of("/consoles", "/console.js", "/admin/console")) {
            channel.writeInbound(request(HttpVersion.HTTP_1_1, HttpMethod.GET, path));
            readError(HttpResponseStatus.NOT_FOUND);
            channel.runPendingTasks();
        }

        channel.writeInbound(request(HttpVersion.HTTP_1_1, HttpMethod.POST, "/console/"));
        assertEquals("GET, HEAD", readError(HttpResponseStatus.METHOD_NOT_ALLOWED).headers().get(HttpHeaderNames.ALLOW));
        channel.runPendingTasks();
        channel.writeInbound(request(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/healthz"));
        assertEquals("GET", readError(HttpResponseStatus.METHOD_NOT_ALLOWED).headers().get(HttpHeaderNames.ALLOW));
    }
}
