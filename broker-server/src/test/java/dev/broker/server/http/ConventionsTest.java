package dev.broker.server.http;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static dev.broker.server.testing.HttpAssertions.tokens;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/** The contract's conventions: CORS on every response, preflights, 404, 405, healthz and the error body. */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class ConventionsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    private HttpResult method(String method, String path, String... headers) {
        return broker.send(broker.request(path, headers).method(method, HttpRequest.BodyPublishers.noBody()).build());
    }

    // --- CORS ----------------------------------------------------------------------------------------------

    @Test
    void everyResponseCarriesTheDefaultAllowOrigin() {
        broker = brokers.start();

        assertAllowOriginOnEveryKindOfResponse("*");
    }

    @Test
    void everyResponseCarriesAConfiguredAllowOrigin() {
        String origin = "https://app.example.com";
        broker = brokers.start(c -> c.with(Flags.ORIGIN, origin));

        assertAllowOriginOnEveryKindOfResponse(origin);
    }

    /** One of each response the server can give, each checked for {@code Access-Control-Allow-Origin}. */
    private void assertAllowOriginOnEveryKindOfResponse(String origin) {
        broker.createUser("alice", "s3cret", "acme");
        String jwt = broker.login("alice", "s3cret");
        String bearer = "Bearer " + jwt;
        Map<String, HttpResult> responses = new LinkedHashMap<>();
        responses.put("200 healthz", broker.get("/healthz"));
        responses.put("200 verify", broker.get("/verify", "Authorization", bearer));
        responses.put("200 insert", broker.insert(jwt, "e", "1"));
        responses.put("200 list_users", broker.post("/list_users", "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"}"));
        responses.put("204 preflight", method("OPTIONS", "/insert", "Origin", "https://app.example.com",
                "Access-Control-Request-Method", "POST"));
        responses.put("400 bad body", broker.post("/insert", "{", "Authorization", bearer));
        responses.put("401 no credentials", broker.get("/verify"));
        responses.put("401 wrong admin token", broker.post("/list_users", "{\"admin_token\":\"no\"}"));
        responses.put("404 unknown path", broker.get("/no-such-path"));
        responses.put("404 unknown user", broker.post("/get_user",
                "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"username\":\"nobody\"}"));
        responses.put("405 wrong method", broker.get("/insert"));
        responses.put("409 taken", broker.post("/create_user", JSON.createObjectNode().put("username", "alice")
                .put("password", "x").put("admin_token", TestBroker.ADMIN_TOKEN).put("tenant_name", "t").toString()));
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            responses.put("413 too large", raw.send("POST /insert HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + bearer
                    + "\r\nContent-Length: " + (broker.config().get(Flags.MAX_BODY) + 1) + "\r\n\r\n").readResponse().toResult());
        }
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            responses.put("400 malformed HTTP", raw.send("NOT HTTP AT ALL\r\n\r\n").readResponse().toResult());
        }
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            RawHttp.Response head = raw.send("GET /sse HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + bearer + "\r\n\r\n")
                    .readHead();
            responses.put("200 sse head", head.toResult());
            assertEquals("text/event-stream", head.header("Content-Type"));
        }

        List<Executable> checks = new ArrayList<>();
        responses.forEach((what, result) -> checks.add(() -> {
            assertEquals(Integer.parseInt(what.substring(0, 3)), result.status(), what + ": " + result.body());
            assertEquals(origin, result.header("Access-Control-Allow-Origin"), what);
        }));
        assertAll(checks);
    }

    @Test
    void preflightOnAnyPathIs204WithTheAllowedMethodsAndHeaders() {
        broker = brokers.start();
        List<Executable> checks = new ArrayList<>();
        for (String path : List.of("/insert", "/sse", "/create_user", "/verify", "/healthz", "/no/such/path",
                "/insert?x=1")) {
            checks.add(() -> {
                HttpResult result = method("OPTIONS", path, "Origin", "https://app.example.com",
                        "Access-Control-Request-Method", "POST",
                        "Access-Control-Request-Headers", "authorization, content-type, last-event-id");
                assertEquals(204, result.status(), path + ": " + result.body());
                assertEquals("", result.body(), path);
                assertEquals("*", result.header("Access-Control-Allow-Origin"), path);
                assertTrue(tokens(result.header("Access-Control-Allow-Methods")).containsAll(List.of("get", "post", "options")),
                        path + ": " + result.header("Access-Control-Allow-Methods"));
                assertTrue(tokens(result.header("Access-Control-Allow-Headers"))
                                .containsAll(List.of("authorization", "content-type", "last-event-id")),
                        path + ": " + result.header("Access-Control-Allow-Headers"));
            });
        }
        assertAll(checks);
    }

    @Test
    void preflightNeedsNoCredentialsAndCarriesAConfiguredOrigin() {
        broker = brokers.start(c -> c.with(Flags.ORIGIN, "https://app.example.com"));

        HttpResult result = method("OPTIONS", "/verify", "Origin", "https://app.example.com",
                "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "Authorization");

        assertEquals(204, result.status());
        assertEquals("https://app.example.com", result.header("Access-Control-Allow-Origin"));
    }

    @Test
    void requestBodiesNeedNoParticularContentType() {
        broker = brokers.start();
        String body = "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"}";

        assertEquals(200, broker.post("/list_users", body).status());
        assertEquals(200, broker.post("/list_users", body, "Content-Type", "text/plain").status());
        assertEquals(200, broker.post("/list_users", body, "Content-Type", "application/x-www-form-urlencoded").status());
        assertEquals(200, broker.post("/list_users", body, "Content-Type", "application/json; charset=utf-8").status());
    }

    // --- routing -------------------------------------------------------------------------------------------

    @Test
    void unknownPathsAre404WithAnErrorBody() {
        broker = brokers.start();
        List<Executable> checks = new ArrayList<>();
        for (String path : List.of("/", "/nope", "/insert/", "/insert/extra", "/INSERT", "/sse/x", "/healthz.json",
                "//healthz", "/api/insert")) {
            checks.add(() -> assertError(404, broker.get(path), "GET " + path));
            checks.add(() -> assertError(404, broker.post(path, "{}"), "POST " + path));
        }
        assertAll(checks);
    }

    @Test
    void aQueryStringDoesNotChangeTheRoute() {
        broker = brokers.start();

        assertEquals(200, broker.get("/healthz?probe=1").status());
        assertError(405, broker.get("/insert?x=y"));
    }

    @Test
    void knownPathsWithAWrongMethodAre405WithAnErrorBody() {
        broker = brokers.start();
        List<Executable> checks = new ArrayList<>();
        Map<String, String> wrong = new LinkedHashMap<>();
        wrong.put("/insert", "GET");
        wrong.put("/sse", "POST");
        wrong.put("/verify", "POST");
        wrong.put("/healthz", "POST");
        wrong.put("/login", "GET");
        wrong.put("/create_user", "GET");
        wrong.put("/revoke_user", "GET");
        wrong.put("/unrevoke_user", "GET");
        wrong.put("/list_users", "GET");
        wrong.put("/get_user", "GET");
        wrong.forEach((path, method) -> checks.add(() -> assertError(405, method(method, path), method + " " + path)));
        for (String method : List.of("PUT", "DELETE", "PATCH")) {
            checks.add(() -> assertError(405, method(method, "/insert"), method + " /insert"));
        }
        assertAll(checks);
    }

    @Test
    void aWrongMethodResponseNamesTheAllowedMethod() {
        broker = brokers.start();

        // RFC 9110 §15.5.6: a 405 response MUST carry Allow.
        assertEquals("POST", method("GET", "/insert").header("Allow"));
        assertEquals("GET", method("POST", "/sse").header("Allow"));
    }

    @Test
    void aWrongMethodIs405EvenWithoutCredentials() {
        broker = brokers.start();

        assertError(405, broker.post("/sse", "{}"));
        assertError(405, broker.get("/insert"));
    }

    // --- healthz and error bodies --------------------------------------------------------------------------

    @Test
    void healthzAnswers200WithoutAuthentication() {
        broker = brokers.start();

        HttpResult result = broker.get("/healthz");

        assertOkObject(result);
        assertEquals("*", result.header("Access-Control-Allow-Origin"));
    }

    @Test
    void errorResponsesAreJsonWithAnErrorString() {
        broker = brokers.start();
        List<HttpResult> errors = List.of(broker.get("/nope"), broker.get("/insert"), broker.get("/verify"),
                broker.post("/login", "["), broker.post("/list_users", "{\"admin_token\":\"bad\"}"));

        for (HttpResult error : errors) {
            assertTrue(error.status() >= 400, error.body());
            assertError(error.status(), error);
            assertTrue(error.header("Content-Type").startsWith("application/json"), error.header("Content-Type"));
        }
    }
}
