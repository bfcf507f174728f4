package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.frame;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The bytes of {@code GET /sse}: the response head, each event's frame, and the heartbeat comment. */
@Timeout(60)
class SseFramingTest {

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    @Test
    void answersWithEventStreamHeadAndNoLengthOrChunking() {
        broker = brokers.start();
        User user = newUser(broker, "framing-head");
        try (SseClient stream = subscribe(broker, user, "")) {
            assertEquals("HTTP/1.1 200 OK", stream.statusLine());
            Map<String, List<String>> expected = new TreeMap<>(Map.of(
                    "content-type", List.of("text/event-stream"),
                    "cache-control", List.of("no-cache"),
                    "x-accel-buffering", List.of("no"),
                    "connection", List.of("close"),
                    "access-control-allow-origin", List.of("*")));
            assertEquals(expected, new TreeMap<>(stream.headers()), "headers were " + stream.headerLines());
            assertNull(stream.header("content-length"));
            assertNull(stream.header("transfer-encoding"));
            assertFalse(stream.awaitClosed(Duration.ofMillis(200)), "the stream must stay open");
        }
    }

    @Test
    void writesEachEventAsOneExactFrameWithCompactAsciiEscapedData() {
        broker = brokers.start();
        User user = newUser(broker, "framing-bytes");
        HttpResult result = broker.post("/insert", "{\"event\":\"e\",\"data\":{ \"a\" : [1, 2] , \"s\":\"é😀\"}}",
                user.bearer());
        assertEquals(200, result.status(), result.body());
        long first = Long.parseLong(result.json().get("id").asText());
        // Jackson escapes non-ASCII with upper-case hex digits, each UTF-16 unit of a surrogate pair on its own.
        String firstData = "{\"a\":[1,2],\"s\":\"\\u00E9\\uD83D\\uDE00\"}";

        try (SseClient stream = subscribe(broker, user, "")) {
            SseClient.Event snapshot = stream.next(PROMPTLY);
            assertEquals(new SseClient.Event(Long.toString(first), "e", firstData), snapshot);

            // Data of every JSON kind, sent with whitespace, comes back compact and with numbers' text intact.
            long second = insert(broker, user, "kinds", "[ null , true,false, -0.5e10 , 12345678901234567890, \"\\n\\\"\\t\" , {} , [ ] ]");
            long third = insert(broker, user, "string", "\"just a string\"");
            long fourth = insert(broker, user, "null", "null");
            stream.nextUntilId(fourth, PROMPTLY);

            String expected = frame(first, "e", firstData)
                    + frame(second, "kinds", "[null,true,false,-0.5e10,12345678901234567890,\"\\n\\\"\\t\",{},[]]")
                    + frame(third, "string", "\"just a string\"")
                    + frame(fourth, "null", "null");
            byte[] raw = stream.rawBody();
            assertEquals(expected, new String(raw, StandardCharsets.UTF_8));
            for (byte b : raw) {
                assertTrue(b >= 0, "the stream must be pure ASCII");
            }
        }
    }

    @Test
    void sendsAHeartbeatCommentEveryInterval() {
        broker = brokers.start(config -> config.with(Flags.HEARTBEAT, 1));
        User user = newUser(broker, "framing-heartbeat");
        long id = insert(broker, user, "e", "1");
        try (SseClient stream = subscribe(broker, user, "")) {
            assertEquals(Long.toString(id), stream.next(PROMPTLY).id());
            long start = System.nanoTime();
            assertEquals("", stream.nextComment(Duration.ofSeconds(3)));
            assertEquals("", stream.nextComment(Duration.ofSeconds(3)));
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(elapsedMillis >= 500, "two heartbeats came " + elapsedMillis + " ms apart at most: too often");
            // A heartbeat is exactly ":\n\n", between whole frames.
            long live = insert(broker, user, "e", "2");
            assertEquals(Long.toString(live), stream.next(PROMPTLY).id());
            String raw = stream.rawBodyText();
            String frames = raw.replace(":\n\n", "");
            assertEquals(frame(id, "e", "1") + frame(live, "e", "2"), frames, "raw stream: " + raw);
            assertTrue(raw.startsWith(frame(id, "e", "1") + ":\n\n:\n\n"), "raw stream: " + raw);
        }
    }
}
