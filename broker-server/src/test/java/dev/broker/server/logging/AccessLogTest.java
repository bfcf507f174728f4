package dev.broker.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.LogCapture;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code --access_log}: a line per request and per stream, and never a query string, token or password. */
class AccessLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String PASSWORD = "pa55-w0rd-in-basic";

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();
    @RegisterExtension
    final LogCapture logs = new LogCapture();

    @TempDir
    Path dir;

    @Test
    void writesOneJsonLinePerRequestWithoutQueryStringsOrCredentials() throws Exception {
        Path file = dir.resolve("logs/access.log");
        TestBroker broker = brokers.start(config -> config.with(Flags.ACCESS_LOG, file).with(Flags.LOG_FORMAT, "json"));
        broker.createUser("grace", PASSWORD, "navy");
        String jwt = broker.login("grace", PASSWORD);
        String basic = "Basic " + Base64.getEncoder().encodeToString(("grace:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        assertEquals(200, broker.get("/verify", "Authorization", basic).status());
        assertEquals(200, broker.insert(jwt, "ship", "{\"name\":\"USS Hopper\"}").status());
        assertEquals(404, broker.get("/no/such/path?access_token=" + jwt).status());
        try (SseClient stream = SseClient.connect(broker.port(), "/sse?access_token=" + jwt + "&last_event_id=0")) {
            stream.next(WAIT);
        }
        // The stream's line is written when the server sees it close; close() writes what is queued.
        awaitStreamLine(broker, file);
        broker.close();

        List<JsonNode> lines = new ArrayList<>();
        String text = Files.readString(file, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            lines.add(JSON.readTree(line));
        }
        assertFalse(text.contains(jwt), text);
        assertFalse(text.contains("access_token"), text);
        assertFalse(text.contains("?"), text);
        assertFalse(text.contains(PASSWORD) || text.contains(basic.substring(6)), text);
        assertFalse(text.contains("grace") || text.contains("navy") || text.contains("Hopper"), text);
        assertEquals(List.of("/create_user", "/login", "/verify", "/insert", "-", "/sse"),
                lines.stream().map(line -> line.get("path").asText()).toList(), text);
        JsonNode insert = lines.get(3);
        assertEquals("POST", insert.get("method").asText());
        assertEquals("INSERT", insert.get("route").asText());
        assertEquals(200, insert.get("status").asInt());
        assertTrue(insert.get("bytes").asLong() > 0, text);
        assertTrue(insert.get("duration_ms").asLong() >= 0, text);
        assertEquals("127.0.0.1", insert.get("client").asText());
        assertEquals("request", insert.get("event").asText());
        JsonNode notFound = lines.get(4);
        assertEquals("none", notFound.get("route").asText());
        assertEquals(404, notFound.get("status").asInt());
        JsonNode sse = lines.get(5);
        assertEquals("SSE", sse.get("route").asText());
        assertTrue(sse.get("stream").asBoolean());
        assertTrue(sse.get("bytes").asLong() >= "id:1\nevent:ship\ndata:{}\n\n".length(), text);
    }

    @Test
    void writesToTheLogWithADash() {
        TestBroker broker = brokers.start(config -> config.with(Flags.ACCESS_LOG, Path.of("-")));
        String token = "Bearer some.made-up.token";

        assertEquals(401, broker.get("/sse?access_token=abc.def.ghi", "Authorization", token).status());
        broker.close();

        List<String> lines = logs.linesContaining("\"GET /sse");
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("\"GET /sse HTTP/1.1\" 401 "), lines.get(0));
        assertFalse(lines.get(0).contains("abc.def.ghi") || lines.get(0).contains("made-up"), lines.get(0));
    }

    private static void awaitStreamLine(TestBroker broker, Path file) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).contains("\"/sse\"")) {
                return;
            }
            // The writer flushes once its queue is empty; a request nudges nothing, so poll the file.
            Thread.sleep(20);
        }
    }
}
