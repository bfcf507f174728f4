package dev.broker.server.api;

import static dev.broker.server.testing.EmbeddedHttp.request;
import static dev.broker.server.testing.EmbeddedHttp.response;
import static dev.broker.server.testing.EmbeddedHttp.responses;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.http.ExceptionHandler;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.RequestSequencer;
import dev.broker.server.http.ResponseSlot;
import dev.broker.server.testing.HttpResult;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ApiHandler} behind the sequencer and the router, in front of the exception handler, with stand-in endpoints:
 * each request reaches its endpoint and is released afterwards, whether the endpoint answered at once or keeps the
 * slot for later; a refused body is a 400 and an endpoint that throws a 500 and a close, both in the request's turn.
 */
class ApiHandlerTest {

    /** What {@code /login} leaves to be answered later: the context and the slot, as a real endpoint keeps them. */
    private record Deferred(ChannelHandlerContext ctx, ResponseSlot slot) {
        void answer(String value) {
            HttpResponses.object(ctx, slot, g -> g.writeStringField("value", value));
        }
    }

    private final InFlightRequests inFlight = new InFlightRequests();
    private final List<Deferred> deferred = new ArrayList<>();
    private EmbeddedChannel channel;

    private Map<Route, Endpoint> endpoints() {
        Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            endpoints.put(route, (ctx, request) -> HttpResponses.object(ctx, request.slot(),
                    g -> g.writeStringField("value", route.path())));
        }
        endpoints.put(Route.LOGIN, (ctx, request) -> deferred.add(new Deferred(ctx, request.slot())));
        endpoints.put(Route.CREATE_USER, (ctx, request) -> {
            throw new BadRequestException("missing field 'username'");
        });
        endpoints.put(Route.GET_USER, (ctx, request) -> {
            throw new IllegalStateException("a bug in an endpoint");
        });
        return endpoints;
    }

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new RequestSequencer(inFlight), new RouteHandler(), new ApiHandler(endpoints()),
                new ExceptionHandler());
    }

    @AfterEach
    void tearDown() {
        assertFalse(channel.finishAndReleaseAll(), "nothing left unread in the channel");
    }

    private boolean idle() throws InterruptedException {
        return inFlight.awaitIdle(0, TimeUnit.MILLISECONDS);
    }

    @Test
    void handsTheRequestToItsEndpointAndReleasesIt() throws InterruptedException {
        FullHttpRequest request = request(HttpMethod.GET, "/healthz");

        channel.writeInbound(request);

        assertEquals("/healthz", assertOkObject(response(channel)).get("value").asText());
        assertEquals(0, request.refCnt());
        assertTrue(idle());
    }

    @Test
    void releasesTheRequestWhenItsEndpointAnswersLater() throws InterruptedException {
        FullHttpRequest request = request(HttpMethod.POST, "/login", "{\"username\":\"alice\"}");

        channel.writeInbound(request);

        assertEquals(0, request.refCnt(), "released once the endpoint returned: it read what it needed");
        assertEquals(1, deferred.size());
        assertTrue(channel.outboundMessages().isEmpty());
        assertFalse(idle(), "the request is under way until it is answered");
        deferred.get(0).answer("later");
        assertEquals("later", assertOkObject(response(channel)).get("value").asText());
        assertTrue(idle());
    }

    @Test
    void answersThatComeLaterLeaveInRequestOrder() {
        channel.writeInbound(request(HttpMethod.POST, "/login", "{}"), request(HttpMethod.POST, "/login", "{}"),
                request(HttpMethod.POST, "/login", "{}"));

        deferred.get(2).answer("third");
        deferred.get(1).answer("second");
        assertTrue(channel.outboundMessages().isEmpty(), "held until the first is answered");
        deferred.get(0).answer("first");

        List<String> values = responses(channel).stream()
                .map(result -> assertOkObject(result).get("value").asText()).toList();
        assertEquals(List.of("first", "second", "third"), values);
    }

    @Test
    void answersABodyTheEndpointRefusedWith400AndKeepsTheConnection() {
        FullHttpRequest request = request(HttpMethod.POST, "/create_user", "{}");

        channel.writeInbound(request);

        HttpResult result = response(channel);
        assertEquals(400, result.status());
        assertEquals("missing field 'username'", result.error());
        assertEquals(0, request.refCnt());
        assertTrue(channel.isOpen());
    }

    @Test
    void answersAnEndpointThatThrewWith500InItsOwnTurnAndCloses() throws InterruptedException {
        FullHttpRequest failing = request(HttpMethod.POST, "/get_user", "{}");
        channel.writeInbound(request(HttpMethod.POST, "/login", "{}"), failing);

        assertEquals(0, failing.refCnt());
        assertTrue(channel.outboundMessages().isEmpty(), "the 500 waits for the request before it");
        deferred.get(0).answer("first");

        List<HttpResult> results = responses(channel);
        assertEquals(2, results.size(), "the earlier request is still answered");
        assertEquals("first", assertOkObject(results.get(0)).get("value").asText());
        assertEquals(500, results.get(1).status());
        assertEquals("close", results.get(1).header("Connection"));
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertTrue(idle());
    }

    @Test
    void needsAnEndpointForEveryRoute() {
        Map<Route, Endpoint> missingOne = endpoints();
        missingOne.remove(Route.VERIFY);

        IllegalArgumentException failure = assertThrows(IllegalArgumentException.class, () -> new ApiHandler(missingOne));
        assertTrue(failure.getMessage().contains("VERIFY"), failure.getMessage());
    }
}
