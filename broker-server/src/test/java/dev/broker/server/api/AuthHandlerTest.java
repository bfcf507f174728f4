package dev.broker.server.api;

import static dev.broker.server.testing.EmbeddedHttp.request;
import static dev.broker.server.testing.EmbeddedHttp.response;
import static dev.broker.server.testing.EmbeddedHttp.responses;
import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.auth.Authenticator;
import dev.broker.server.auth.BasicCredentialCache;
import dev.broker.server.auth.JwtTokens;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.Principal;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.http.CorsHandler;
import dev.broker.server.http.ExceptionHandler;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.RequestSequencer;
import dev.broker.server.testing.HttpResult;
import dev.broker.storage.StorageUnavailableException;
import dev.broker.storage.User;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link AuthHandler} in the request handlers' order (sequencer, CORS, router, auth, API, exceptions), in front of
 * endpoints that answer with the caller they were given: public routes pass, credentials mark the request with its
 * caller, anything else is a 401 through the request's slot; a Basic credential is verified off the loop and the
 * request keeps its turn meanwhile.
 */
class AuthHandlerTest {

    private static final String PASSWORD = "correct horse";
    private static final String ADMIN_TOKEN = "the admin token";

    /** The hashing threads, run by hand: a Basic credential's verification waits here until the test runs it. */
    private final Queue<Runnable> hashing = new ArrayDeque<>();
    private final PasswordHasher hasher = new PasswordHasher(hashing::add);
    private final JwtTokens tokens = new JwtTokens("test secret", 3600);
    /** The store's reads, answered by hand: a user not in the directory's cache waits here until the test answers. */
    private final Map<String, CompletableFuture<Optional<User>>> storeReads = new HashMap<>();
    private final UserDirectory users = new UserDirectory(
            username -> storeReads.computeIfAbsent(username, u -> new CompletableFuture<>()), 100);
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        users.put(new User("1", "alice", "acme", hasher.hash(PASSWORD), false));
        users.put(new User("2", "mallory", "acme", hasher.hash(PASSWORD), true));
        Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            endpoints.put(route, (ctx, request) -> HttpResponses.object(ctx, request.slot(), g -> {
                Principal caller = request.principal();
                g.writeStringField("caller", caller == null ? "nobody"
                        : (caller.isOperator() ? "operator" : caller.username()) + "@" + caller.tenant());
            }));
        }
        channel = new EmbeddedChannel(new RequestSequencer(new InFlightRequests()), new CorsHandler("*"),
                new RouteHandler(), new AuthHandler(new Authenticator(tokens, users, hasher, new BasicCredentialCache()),
                        ADMIN_TOKEN),
                new ApiHandler(endpoints), new ExceptionHandler());
    }

    @AfterEach
    void tearDown() {
        assertTrue(hashing.isEmpty(), "every verification was run");
        assertTrue(storeReads.values().stream().allMatch(CompletableFuture::isDone), "every store read was answered");
        assertFalse(channel.finishAndReleaseAll(), "nothing left unread in the channel");
    }

    private static FullHttpRequest withAuthorization(FullHttpRequest request, String authorization) {
        request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
        return request;
    }

    private static String basic(String username, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private String caller(HttpResult result) {
        return assertOkObject(result).get("caller").asText();
    }

    private void runHashing() {
        while (!hashing.isEmpty()) {
            hashing.poll().run();
        }
        channel.runPendingTasks();
    }

    @Test
    void passesAPublicRouteOnWithoutACaller() {
        channel.writeInbound(request(HttpMethod.POST, "/login", "{}"));

        assertEquals("nobody", caller(response(channel)));
    }

    @Test
    void marksARequestWithAValidBearerTokenWithItsCaller() {
        channel.writeInbound(withAuthorization(request(HttpMethod.GET, "/verify"), "Bearer " + tokens.issue("alice", "acme")));

        assertEquals("alice@acme", caller(response(channel)));
    }

    @Test
    void answersMissingCredentialsWith401AndKeepsTheConnection() {
        FullHttpRequest request = request(HttpMethod.GET, "/verify");

        channel.writeInbound(request);

        HttpResult result = response(channel);
        assertError(401, result);
        assertEquals("Bearer realm=\"broker\"", result.header("WWW-Authenticate"));
        assertEquals(0, request.refCnt(), "the refused request was released");
        assertTrue(channel.isOpen());
    }

    @Test
    void refusesABadTokenARevokedUserAndAnUnknownScheme() {
        FullHttpRequest badToken = withAuthorization(request(HttpMethod.GET, "/verify"), "Bearer not-a-jwt");
        FullHttpRequest revoked = withAuthorization(request(HttpMethod.GET, "/verify"),
                "Bearer " + tokens.issue("mallory", "acme"));
        FullHttpRequest scheme = withAuthorization(request(HttpMethod.GET, "/verify"), "Digest whatever");

        channel.writeInbound(badToken);
        assertError(401, response(channel), "a token that is not a JWT");
        channel.runPendingTasks();
        channel.writeInbound(revoked);
        assertEquals("user is revoked", assertError(401, response(channel)));
        channel.runPendingTasks();
        channel.writeInbound(scheme);
        assertEquals("unsupported authorization scheme", assertError(401, response(channel)));

        for (FullHttpRequest request : List.of(badToken, revoked, scheme)) {
            assertEquals(0, request.refCnt());
        }
    }

    @Test
    void takesTheAccessTokenQueryParameterOnSseOnly() {
        String jwt = tokens.issue("alice", "acme");

        channel.writeInbound(request(HttpMethod.GET, "/verify?access_token=" + jwt));
        assertError(401, response(channel), "/verify with access_token");

        channel.runPendingTasks();
        channel.writeInbound(request(HttpMethod.GET, "/sse?access_token=" + jwt));
        assertEquals("alice@acme", caller(response(channel)), "the stand-in SSE endpoint answers with the caller");
    }

    @Test
    void verifiesABasicCredentialOffTheLoopThenContinuesOnIt() {
        channel.writeInbound(withAuthorization(request(HttpMethod.GET, "/verify"), basic("alice", PASSWORD)));

        assertTrue(channel.outboundMessages().isEmpty(), "nothing is answered while the password is hashed");
        assertEquals(1, hashing.size());
        runHashing();

        assertEquals("alice@acme", caller(response(channel)));
    }

    @Test
    void answersAWrongPasswordWith401OnceItIsHashed() {
        FullHttpRequest request = withAuthorization(request(HttpMethod.GET, "/verify"), basic("alice", "wrong"));

        channel.writeInbound(request);
        runHashing();

        assertEquals("wrong username or password", assertError(401, response(channel)));
        assertEquals(0, request.refCnt());
    }

    @Test
    void aRequestWaitingForItsPasswordHashKeepsItsTurn() {
        channel.writeInbound(
                withAuthorization(request(HttpMethod.POST, "/insert", "{}"), basic("alice", PASSWORD)),
                withAuthorization(request(HttpMethod.POST, "/insert", "{}"), "Bearer " + tokens.issue("mallory", "acme")),
                withAuthorization(request(HttpMethod.POST, "/insert", "{}"), "Bearer " + tokens.issue("alice", "acme")));

        assertTrue(channel.outboundMessages().isEmpty(), "the later answers wait for the first request's");
        runHashing();

        List<HttpResult> results = responses(channel);
        assertEquals(3, results.size());
        assertEquals("alice@acme", caller(results.get(0)));
        assertError(401, results.get(1));
        assertEquals("alice@acme", caller(results.get(2)));
    }

    @Test
    void passesTheOperatorOnInTheNamedTenant() {
        channel.writeInbound(withAuthorization(request(HttpMethod.GET, "/admin/sse?tenant=acme"), "Bearer " + ADMIN_TOKEN));
        assertEquals("operator@acme", caller(response(channel)));

        channel.writeInbound(withAuthorization(request(HttpMethod.GET, "/admin/stats"), "bearer " + ADMIN_TOKEN));
        assertEquals("nobody", caller(response(channel)), "a route in no tenant; the scheme is case-insensitive");
    }

    @Test
    void refusesTheOperatorsRoutesWithoutTheAdminToken() {
        List<FullHttpRequest> refused = List.of(
                request(HttpMethod.GET, "/admin/sse?tenant=acme"),
                withAuthorization(request(HttpMethod.GET, "/admin/sse?tenant=acme"), "Bearer not the token"),
                withAuthorization(request(HttpMethod.GET, "/admin/sse?tenant=acme"), ADMIN_TOKEN),
                withAuthorization(request(HttpMethod.GET, "/admin/sse?tenant=acme"), basic("admin", ADMIN_TOKEN)),
                withAuthorization(request(HttpMethod.GET, "/admin/stats"), "Bearer " + tokens.issue("alice", "acme")),
                withAuthorization(request(HttpMethod.POST, "/admin/insert?tenant=acme", "{}"), "Bearer"));
        for (FullHttpRequest request : refused) {
            channel.writeInbound(request);
            HttpResult result = response(channel);
            assertError(401, result);
            assertEquals("Bearer realm=\"broker\"", result.header("WWW-Authenticate"));
            assertEquals(0, request.refCnt(), "the refused request was released");
            channel.runPendingTasks();
        }
        assertTrue(channel.isOpen());
    }

    @Test
    void refusesTheOperatorInNoTenantWith400() {
        String tooLong = "?tenant=" + "t".repeat(AuthHandler.MAX_TENANT_LENGTH + 1);
        for (String query : List.of("", "?tenant=", "?tenants=acme", tooLong)) {
            FullHttpRequest request = withAuthorization(request(HttpMethod.POST, "/admin/insert" + query, "{}"),
                    "Bearer " + ADMIN_TOKEN);
            channel.writeInbound(request);
            assertTrue(assertError(400, response(channel)).contains("tenant"), query);
            assertEquals(0, request.refCnt(), "the refused request was released");
            channel.runPendingTasks();
        }
    }

    @Test
    void anAuthHandlerWithoutAnAdminTokenRefusesTheOperatorsRoutes() {
        EmbeddedChannel without = new EmbeddedChannel(new RequestSequencer(new InFlightRequests()), new CorsHandler("*"),
                new RouteHandler(),
                new AuthHandler(new Authenticator(tokens, users, hasher, new BasicCredentialCache())),
                new ApiHandler(endpointsAnsweringOk()), new ExceptionHandler());
        without.writeInbound(withAuthorization(request(HttpMethod.GET, "/admin/stats"), "Bearer " + ADMIN_TOKEN));
        assertError(401, response(without));
        assertFalse(without.finishAndReleaseAll());
    }

    private static Map<Route, Endpoint> endpointsAnsweringOk() {
        Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            endpoints.put(route, (ctx, request) -> HttpResponses.object(ctx, request.slot(), g -> { }));
        }
        return endpoints;
    }

    @Test
    void readsAUserMissingFromTheCacheFromTheStoreThenContinuesOnTheLoop() {
        User bob = new User("3", "bob", "acme", hasher.hash(PASSWORD), false);
        FullHttpRequest request = withAuthorization(request(HttpMethod.GET, "/verify"),
                "Bearer " + tokens.issue("bob", "acme"));

        channel.writeInbound(request);
        assertTrue(channel.outboundMessages().isEmpty(), "nothing is answered while the store reads the user");
        assertEquals(1, request.refCnt(), "the request waits, held");
        storeReads.get("bob").complete(Optional.of(bob));
        channel.runPendingTasks();

        assertEquals("bob@acme", caller(response(channel)));
        assertEquals(Optional.of(bob), users.cached("bob"), "the user read is cached for the next request");
    }

    @Test
    void refusesAUsernameTheStoreDoesNotKnowAndAnswers503WhenItCannotRead() {
        FullHttpRequest unknown = withAuthorization(request(HttpMethod.GET, "/verify"),
                "Bearer " + tokens.issue("ghost", "acme"));
        FullHttpRequest unreadable = withAuthorization(request(HttpMethod.GET, "/verify"),
                "Bearer " + tokens.issue("carol", "acme"));

        channel.writeInbound(unknown);
        storeReads.get("ghost").complete(Optional.empty());
        channel.runPendingTasks();
        assertEquals("unknown user", assertError(401, response(channel)));

        channel.writeInbound(unreadable);
        storeReads.get("carol").completeExceptionally(new StorageUnavailableException("disk gone", null));
        channel.runPendingTasks();
        assertError(503, response(channel), "a store that cannot read is no reason to drop the credential");
        assertEquals(null, users.cached("carol"), "a failed read is not cached");
        for (FullHttpRequest request : List.of(unknown, unreadable)) {
            assertEquals(0, request.refCnt());
        }
    }
}
