package dev.broker.server.http;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/**
 * The connection level, byte by byte: malformed HTTP is a 400 and a close, oversized request lines and header
 * blocks are refused, pipelined requests are answered in order, HTTP/1.0 closes, and idle clients harm no one.
 */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class RawSocketTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = brokers.start();
    }

    private RawHttp connect() {
        return RawHttp.connect(broker.port());
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    private void assertAFreshConnectionWorks() {
        try (RawHttp raw = connect()) {
            RawHttp.Response response = raw.send(get("/healthz")).readResponse();
            assertEquals(200, response.status(), response.statusLine());
        }
    }

    @Test
    void aMalformedRequestIs400AndTheConnectionIsClosed() {
        List<Executable> checks = new ArrayList<>();
        for (String request : List.of(
                "GARBAGE\r\n\r\n",
                "GET /healthz\r\n\r\n",
                "GET /healthz HTTP/1.1 trailing\r\nHost: x\r\n\r\n",
                "GET /healthz FTP/1.1\r\nHost: x\r\n\r\n",
                "\u0001\u0002\u0003 / HTTP/1.1\r\n\r\n",
                "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                "POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")) {
            checks.add(() -> {
                try (RawHttp raw = connect()) {
                    RawHttp.Response response = raw.send(request).readResponse();
                    assertError(400, response.toResult(), request.strip());
                    assertTrue(raw.closesWithin(CLOSE_WAIT), "connection left open after: " + request.strip());
                }
            });
        }
        assertAll(checks);
        assertAFreshConnectionWorks();
    }

    /** Obsolete line folding (RFC 9112 §5.2): rejected, wherever the fold falls, never joined into the value. */
    @Test
    void aFoldedHeaderIs400AndTheConnectionIsClosed() {
        broker.createUser("folder", "pw", "acme");
        String jwt = broker.login("folder", "pw");
        List<Executable> checks = new ArrayList<>();
        for (String request : List.of(
                "GET /verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n " + jwt + "\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n",
                "GET /healthz HTTP/1.1\nX-A: 1\n 2\n\n")) {
            checks.add(() -> {
                try (RawHttp raw = connect()) {
                    assertError(400, raw.send(request).readResponse().toResult(), request.strip());
                    assertTrue(raw.closesWithin(CLOSE_WAIT), "connection left open after: " + request.strip());
                }
            });
        }
        // The fold in a later TCP segment than the line it continues.
        checks.add(() -> {
            try (RawHttp raw = connect()) {
                raw.send("GET /verify HTTP/1.1\r\nAuthorization: Bearer\r\n");
                Thread.sleep(50);
                raw.send(" " + jwt + "\r\n\r\n");
                assertError(400, raw.readResponse().toResult());
            }
        });
        // A folded request after a request with a body, in the same write: the body is not a head, the next is.
        checks.add(() -> {
            try (RawHttp raw = connect()) {
                String body = "{\"x\":\"\n a\"}";
                raw.send("POST /login HTTP/1.1\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                        + "GET /healthz HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n");
                assertEquals(400, raw.readResponse().status(), "the login's own 400 (bad JSON)");
                assertEquals(400, raw.readResponse().status(), "the folded request");
            }
        });
        assertAll(checks);
        assertAFreshConnectionWorks();
    }

    @Test
    void aBodyWithLineBreaksFollowedBySpacesIsNoFold() {
        try (RawHttp raw = connect()) {
            String body = "{\"username\":\"a\",\n \"password\":\"b\"}";
            raw.send("POST /login HTTP/1.1\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                    + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(401, raw.readResponse().status(), "unknown user, not a malformed request");
            assertEquals(200, raw.readResponse().status());
        }
    }

    @Test
    void headGetsNoBody() {
        try (RawHttp raw = connect()) {
            RawHttp.Response head = raw.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n").readHead();
            assertEquals(405, head.status());
            // The next response on the connection starts right after the head: no body was sent for HEAD.
            assertEquals(200, raw.send(get("/healthz")).readResponse().status());
        }
    }

    @Test
    void aTwentyKilobyteRequestLineIsRefusedAndClosed() {
        try (RawHttp raw = connect()) {
            RawHttp.Response response = raw.send("GET /healthz?q=" + "a".repeat(20 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .readResponse();

            assertTrue(response.status() >= 400 && response.status() < 500, response.statusLine());
            assertEquals("*", response.header("Access-Control-Allow-Origin"));
            assertTrue(raw.closesWithin(CLOSE_WAIT), "connection left open after an overlong request line");
        }
        assertAFreshConnectionWorks();
    }

    @Test
    void aSixtyFourKilobyteHeaderBlockIsRefusedAndClosed() {
        StringBuilder request = new StringBuilder("GET /healthz HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; request.length() < 64 * 1024; i++) {
            request.append("X-Filler-").append(i).append(": ").append("v".repeat(1000)).append("\r\n");
        }
        request.append("\r\n");

        try (RawHttp raw = connect()) {
            raw.sendTolerantly(request.toString().getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = raw.readResponse();

            assertTrue(response.status() >= 400 && response.status() < 500, response.statusLine());
            assertTrue(raw.closesWithin(CLOSE_WAIT), "connection left open after an oversized header block");
        }
        assertAFreshConnectionWorks();
    }

    @Test
    void aSingleHugeHeaderIsRefusedAndClosed() {
        try (RawHttp raw = connect()) {
            raw.sendTolerantly(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: " + "h".repeat(64 * 1024) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = raw.readResponse();

            assertTrue(response.status() >= 400 && response.status() < 500, response.statusLine());
            assertTrue(raw.closesWithin(CLOSE_WAIT));
        }
        assertAFreshConnectionWorks();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        try (RawHttp raw = connect()) {
            raw.send(get("/healthz") + get("/no-such-path") + get("/insert") + get("/healthz"));

            assertEquals(200, raw.readResponse().status());
            assertEquals(404, raw.readResponse().status());
            assertEquals(405, raw.readResponse().status());
            assertEquals(200, raw.readResponse().status());
        }
    }

    private static String insert(String jwt, String body) {
        return "POST /insert HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + jwt + "\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    private static String insertOf(String jwt, String event) {
        return insert(jwt, "{\"event\":\"" + event + "\",\"data\":{\"n\":1}}");
    }

    /** Reads an insert's 200 for {@code event}; returns its id, which must be above {@code previous}. */
    private static long readInsert(RawHttp raw, String event, long previous) throws Exception {
        RawHttp.Response response = raw.readResponse();
        assertEquals(200, response.status(), event + ": " + response.statusLine() + " " + response.bodyText());
        var body = JSON.readTree(response.body());
        assertEquals(event, body.get("event").asText(), "responses in request order");
        long id = Long.parseLong(body.get("id").asText());
        assertTrue(id > previous, "ids increase in request order: " + id + " after " + previous);
        return id;
    }

    @Test
    void fiftyPipelinedInsertsAreAnsweredInOrderWithIncreasingIds() throws Exception {
        broker.createUser("alice", "s3cret", "acme");
        String jwt = broker.login("alice", "s3cret");
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            requests.append(insertOf(jwt, "e" + i));
        }

        try (RawHttp raw = connect()) {
            raw.send(requests.toString()); // one write: the server reads them in a burst and runs them together
            long id = 0;
            for (int i = 0; i < 50; i++) {
                id = readInsert(raw, "e" + i, id);
            }
            assertEquals(200, raw.send(get("/healthz")).readResponse().status(), "the connection is still usable");
        }
    }

    @Test
    void pipelinedInsertsAroundABadRequestAndA404AreAnsweredInOrder() throws Exception {
        broker.createUser("alice", "s3cret", "acme");
        String jwt = broker.login("alice", "s3cret");

        try (RawHttp raw = connect()) {
            raw.send(insertOf(jwt, "first")
                    + insert(jwt, "{\"event\":\"no data\"}")
                    + insertOf(jwt, "second")
                    + "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                    + insertOf(jwt, "third")
                    + insert("not-a-jwt", "{\"event\":\"x\",\"data\":1}")
                    + insertOf(jwt, "fourth"));

            long id = readInsert(raw, "first", 0);
            assertError(400, raw.readResponse().toResult());
            id = readInsert(raw, "second", id);
            assertError(404, raw.readResponse().toResult());
            id = readInsert(raw, "third", id);
            assertError(401, raw.readResponse().toResult());
            readInsert(raw, "fourth", id);
        }
    }

    @Test
    void pipelinedInsertsAfterAConnectionCloseRequestAreNotRun() throws Exception {
        broker.createUser("alice", "s3cret", "acme");
        String jwt = broker.login("alice", "s3cret");
        String last = insertOf(jwt, "last").replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n");

        long lastId;
        try (RawHttp raw = connect()) {
            raw.send(insertOf(jwt, "kept") + last + insertOf(jwt, "never"));

            long id = readInsert(raw, "kept", 0);
            lastId = readInsert(raw, "last", id);
            assertTrue(raw.closesWithin(CLOSE_WAIT), "the connection ends after the request that asked for it");
        }
        long marker = Long.parseLong(JSON.readTree(broker.insert(jwt, "marker", "1").body()).get("id").asText());
        try (SseClient sse = SseClient.connect(broker.port(), "/sse?access_token=" + jwt + "&last_event_id=" + lastId)) {
            List<String> names = sse.nextUntilId(marker, Duration.ofSeconds(10)).stream()
                    .map(SseClient.Event::name).toList();
            assertEquals(List.of("marker"), names, "the insert after Connection: close was never run");
        }
    }

    @Test
    void aPipelinedFastRequestWaitsForASlowOneBeforeIt() {
        broker.createUser("alice", "s3cret", "acme");
        String basic = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
        String login = JSON.createObjectNode().put("username", "alice").put("password", "s3cret").toString();

        try (RawHttp raw = connect()) {
            // Both slow requests hash a password on another thread; the fast ones are answered in place.
            raw.send("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: " + login.length() + "\r\n\r\n" + login
                    + get("/healthz")
                    + "GET /verify HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic + "\r\n\r\n"
                    + get("/nope"));

            RawHttp.Response first = raw.readResponse();
            assertEquals(200, first.status(), first.bodyText());
            assertTrue(first.bodyText().contains("\"jwt\""), first.bodyText());
            RawHttp.Response second = raw.readResponse();
            assertEquals(200, second.status());
            assertTrue(second.bodyText().contains("ok"), second.bodyText());
            RawHttp.Response third = raw.readResponse();
            assertEquals(200, third.status(), third.bodyText());
            assertTrue(third.bodyText().contains("\"alice\""), third.bodyText());
            assertEquals(404, raw.readResponse().status());
        }
    }

    @Test
    void aPipelinedPreflightIsAnsweredAfterTheRequestBeforeIt() {
        broker.createUser("alice", "s3cret", "acme");
        String login = JSON.createObjectNode().put("username", "alice").put("password", "s3cret").toString();

        try (RawHttp raw = connect()) {
            raw.send("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: " + login.length() + "\r\n\r\n" + login
                    + "OPTIONS /insert HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\r\n"
                    + "Access-Control-Request-Method: POST\r\n\r\n");

            RawHttp.Response first = raw.readResponse();
            RawHttp.Response second = raw.readResponse();
            assertEquals(List.of(200, 204), List.of(first.status(), second.status()),
                    "responses must leave in request order (RFC 9112 §9.3.2)");
        }
    }

    @Test
    void anHttp10RequestWithoutKeepAliveIsAnsweredThenClosed() {
        try (RawHttp raw = connect()) {
            RawHttp.Response response = raw.send("GET /healthz HTTP/1.0\r\n\r\n").readResponse();

            assertEquals(200, response.status());
            assertTrue(raw.closesWithin(CLOSE_WAIT), "an HTTP/1.0 connection without keep-alive must be closed");
        }
        try (RawHttp raw = connect()) {
            RawHttp.Response response = raw.send("GET /nope HTTP/1.0\r\n\r\n").readResponse();

            assertError(404, response.toResult());
            assertTrue(raw.closesWithin(CLOSE_WAIT), "also after an error");
        }
    }

    @Test
    void connectionCloseIsHonouredOnHttp11() {
        try (RawHttp raw = connect()) {
            RawHttp.Response response = raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .readResponse();

            assertEquals(200, response.status());
            assertEquals("close", response.header("Connection"));
            assertTrue(raw.closesWithin(CLOSE_WAIT));
        }
    }

    @Test
    void anHttp11ConnectionStaysOpenForTheNextRequest() {
        try (RawHttp raw = connect()) {
            for (int i = 0; i < 3; i++) {
                RawHttp.Response response = raw.send(get("/healthz")).readResponse();
                assertEquals(200, response.status());
                assertNotEquals("close", response.header("Connection"), "no Connection: close on a keep-alive exchange");
            }
            RawHttp.Response error = raw.send(get("/nope")).readResponse();
            assertEquals(404, error.status());
            assertEquals(200, raw.send(get("/healthz")).readResponse().status(), "a 404 keeps the connection too");
        }
    }

    @Test
    void clientsThatSendNothingOrHalfARequestDoNotStopOthersBeingServed() {
        try (RawHttp silent = connect();
             RawHttp halfLine = connect().send("GET /heal");
             RawHttp halfHeaders = connect().send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
             RawHttp halfBody = connect().send("POST /list_users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")) {
            for (int i = 0; i < 8; i++) { // spread over every event loop
                HttpResult result = broker.get("/healthz");
                assertEquals(200, result.status());
            }
            broker.createUser("bob", "pw", "acme");
            assertEquals(200, broker.insert(broker.login("bob", "pw"), "e", "1").status());
            try (RawHttp other = connect()) {
                assertEquals(200, other.send(get("/healthz")).readResponse().status());
            }

            // The slow ones were merely waiting: they finish their requests and are answered.
            assertEquals(200, halfLine.send("thz HTTP/1.1\r\nHost: x\r\n\r\n").readResponse().status());
            assertEquals(200, halfHeaders.send("1\r\n\r\n").readResponse().status());
            String rest = "\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"}";
            halfBody.send(rest + " ".repeat(99 - rest.length()));
            assertEquals(200, halfBody.readResponse().status());
            assertEquals(200, silent.send(get("/healthz")).readResponse().status());
        }
    }

    @Test
    void acceptsAChunkedRequestBody() {
        // A page of list_users: its answer has a Content-Length (the whole list would be streamed, chunked).
        String json = "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"limit\":10}";
        String first = json.substring(0, 10);
        String second = json.substring(10);

        try (RawHttp raw = connect()) {
            raw.send("POST /list_users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(first.length()) + "\r\n" + first + "\r\n");
            raw.send(Integer.toHexString(second.length()) + "\r\n" + second + "\r\n0\r\n\r\n");
            RawHttp.Response response = raw.readResponse();

            assertEquals(200, response.status(), response.bodyText());
            assertEquals("[]", response.bodyText());
        }
    }

    @Test
    void aPipelinedOversizedRequestIsRefusedOnlyAfterTheRequestBeforeIt() {
        broker.createUser("alice", "s3cret", "acme");
        String login = JSON.createObjectNode().put("username", "alice").put("password", "s3cret").toString();

        try (RawHttp raw = connect()) {
            raw.send("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: " + login.length() + "\r\n\r\n" + login
                    + "POST /insert HTTP/1.1\r\nHost: x\r\nContent-Length: " + (broker.config().get(Flags.MAX_BODY) + 1)
                    + "\r\n\r\n");

            RawHttp.Response first = raw.readResponse();
            assertEquals(200, first.status(), "the login before the oversized request is answered first: "
                    + first.statusLine() + " " + first.bodyText());
            assertError(413, raw.readResponse().toResult());
            assertTrue(raw.closesWithin(CLOSE_WAIT));
        }
    }

    @Test
    void aPipelinedMalformedRequestIsRefusedOnlyAfterTheRequestBeforeIt() {
        broker.createUser("alice", "s3cret", "acme");
        String login = JSON.createObjectNode().put("username", "alice").put("password", "s3cret").toString();

        try (RawHttp raw = connect()) {
            raw.send("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: " + login.length() + "\r\n\r\n" + login
                    + "BROKEN REQUEST LINE\r\n\r\n");

            RawHttp.Response first = raw.readResponse();
            assertEquals(200, first.status(), first.statusLine() + " " + first.bodyText());
            assertError(400, raw.readResponse().toResult());
            assertTrue(raw.closesWithin(CLOSE_WAIT));
        }
    }

    @Test
    void acceptsAnAbsoluteFormRequestTarget() {
        // RFC 9112 §3.2.2: "a server MUST accept the absolute-form in requests".
        try (RawHttp raw = connect()) {
            RawHttp.Response response = raw.send("GET http://127.0.0.1:" + broker.port() + "/healthz HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + broker.port() + "\r\n\r\n").readResponse();

            assertEquals(200, response.status(), response.statusLine() + " " + response.bodyText());
        }
    }

    @Test
    void anHttp10KeepAliveRequestIsToldTheConnectionStaysOpen() {
        // An HTTP/1.0 client (ApacheBench -k, old proxies) keeps a connection only if the response says so.
        try (RawHttp raw = connect()) {
            for (int i = 0; i < 2; i++) {
                RawHttp.Response response = raw.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                        .readResponse();

                assertEquals(200, response.status());
                assertEquals("keep-alive", String.valueOf(response.header("Connection")).toLowerCase(java.util.Locale.ROOT),
                        "an HTTP/1.0 keep-alive exchange must answer Connection: keep-alive");
            }
        }
    }
}
