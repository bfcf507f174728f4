package dev.broker.server.console;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The console's static files over real sockets: types, caching, security headers, HEAD, and nothing else. */
@Timeout(60)
class ConsoleEndpointTest {

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = brokers.start();
    }

    private static void assertSecurityHeaders(String what, Map<String, String> headers) {
        assertEquals(ConsoleEndpoint.CONTENT_SECURITY_POLICY, headers.get("content-security-policy"), what);
        assertEquals("nosniff", headers.get("x-content-type-options"), what);
        assertEquals("no-referrer", headers.get("referrer-policy"), what);
        assertEquals("no-cache", headers.get("cache-control"), what);
    }

    private static Map<String, String> headersOf(HttpResult result) {
        return Map.of(
                "content-security-policy", String.valueOf(result.header("content-security-policy")),
                "x-content-type-options", String.valueOf(result.header("x-content-type-options")),
                "referrer-policy", String.valueOf(result.header("referrer-policy")),
                "cache-control", String.valueOf(result.header("cache-control")));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ConsoleEndpointTest.class.getClassLoader().getResourceAsStream("console/" + name)) {
            assertNotNull(in, name);
            return in.readAllBytes();
        }
    }

    @Test
    void servesEveryFileWithItsTypeAndTheSecurityHeaders() throws IOException {
        for (Map.Entry<String, String> file : ConsoleFiles.MANIFEST.entrySet()) {
            HttpResult result = broker.get("/console/" + file.getKey());
            assertEquals(200, result.status(), file.getKey());
            assertEquals(file.getValue(), result.header("content-type"), file.getKey());
            assertEquals(new String(resource(file.getKey()), java.nio.charset.StandardCharsets.UTF_8), result.body());
            assertTrue(result.header("etag").matches("\"[0-9a-f]{32}\""), result.header("etag"));
            assertSecurityHeaders(file.getKey(), headersOf(result));
        }
    }

    @Test
    void theBarePathRedirectsAndTheDirectoryIsTheIndex() {
        HttpResult redirect = broker.get("/console");
        assertEquals(301, redirect.status());
        assertEquals("console/", redirect.header("location"));
        assertEquals("", redirect.body());

        HttpResult index = broker.get("/console/");
        assertEquals(200, index.status());
        assertEquals("text/html; charset=utf-8", index.header("content-type"));
        assertTrue(index.body().contains("<title>Broker console</title>"), index.body());
        assertEquals(broker.get("/console/index.html").header("etag"), index.header("etag"));
        assertSecurityHeaders("index", headersOf(index));
    }

    @Test
    void aMatchingIfNoneMatchIsA304WithoutBody() {
        String etag = broker.get("/console/console.js").header("etag");
        for (String ifNoneMatch : List.of(etag, "W/" + etag, "\"other\", " + etag, "*")) {
            HttpResult result = broker.get("/console/console.js", "If-None-Match", ifNoneMatch);
            assertEquals(304, result.status(), ifNoneMatch);
            assertEquals("", result.body());
            assertEquals(etag, result.header("etag"));
            assertSecurityHeaders(ifNoneMatch, headersOf(result));
        }
        assertEquals(200, broker.get("/console/console.js", "If-None-Match", "\"other\"").status());
        assertEquals(200, broker.get("/console/console.css", "If-None-Match", etag).status(), "another file's tag");
    }

    @Test
    void headAnswersTheHeadersAlone() throws IOException {
        byte[] index = resource("index.html");
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            raw.send("HEAD /console/ HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response head = raw.readHead();
            assertEquals(200, head.status());
            assertEquals(Integer.toString(index.length), head.header("content-length"));
            assertEquals("text/html; charset=utf-8", head.header("content-type"));
            assertNotNull(head.header("etag"));
            // No body followed: the next response on the connection is the next request's.
            raw.send("GET /console/index.html HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response get = raw.readResponse();
            assertEquals(200, get.status());
            assertArrayEquals(index, get.body());
        }
    }

    @Test
    void nothingOutsideTheKnownFilesIsReachable() {
        for (String path : List.of("/console/nope.js", "/console/../pom.xml", "/console/%2e%2e/%2e%2e/etc/passwd",
                "/console/console/index.html", "/console/index.html/", "/console//index.html",
                "/console/META-INF/MANIFEST.MF", "/console/dev/broker/server/BrokerServer.class",
                "/console/..%2fconsole%2findex.html", "/consoleX")) {
            try (RawHttp raw = RawHttp.connect(broker.port())) {
                raw.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                RawHttp.Response response = raw.readResponse();
                assertEquals(404, response.status(), path);
                assertTrue(response.bodyText().contains("\"error\""), path);
                assertNull(response.header("etag"), path);
            }
        }
    }

    @Test
    void onlyGetAndHeadAreAllowed() {
        HttpResult post = broker.post("/console/", "{}");
        assertError(405, post);
        assertEquals("GET, HEAD", post.header("allow"));
        assertFalse(post.body().isEmpty());
    }
}
