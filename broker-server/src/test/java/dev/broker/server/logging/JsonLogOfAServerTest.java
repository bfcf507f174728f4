package dev.broker.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.ForkedBroker;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.TestBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server process with {@code --log_format json --access_log -}: every line of its log is one JSON object with
 * the stable fields, the configuration line masks the secrets, and the operator events say start, listen and stop.
 */
class JsonLogOfAServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void logsOneJsonObjectPerLineWithSecretsMasked() throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        String stderr;
        String jwt;
        try (ForkedBroker server = ForkedBroker.start(dir.resolve("db"), Duration.ofSeconds(60),
                ForkedBroker.DEFAULT_JVM_OPTIONS, "--log_format", "json", "--access_log", "-")) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            post(http, base + "/create_user", "{\"username\":\"lin\",\"password\":\"pw-of-lin\",\"admin_token\":\""
                    + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"t1\"}");
            String login = post(http, base + "/login", "{\"username\":\"lin\",\"password\":\"pw-of-lin\"}");
            jwt = JSON.readTree(login).get("jwt").asText();
            try (SseClient stream = SseClient.connect(server.port(), "/sse?access_token=" + jwt)) {
                assertEquals(200, stream.status());
            }
            server.process().destroy(); // SIGTERM: a graceful stop
            assertTrue(server.process().waitFor(30, TimeUnit.SECONDS), "the server did not stop");
            stderr = server.stderr();
        }
        for (String line : stderr.split("\n")) {
            if (!line.isBlank()) {
                lines.add(JSON.readTree(line)); // throws if a line is not one JSON object
            }
        }

        for (JsonNode line : lines) {
            for (String field : List.of("ts", "level", "logger", "msg")) {
                assertTrue(line.hasNonNull(field), "no " + field + " in " + line);
            }
        }
        JsonNode config = event(lines, "config");
        assertEquals("***", config.at("/flags/admin_token").asText());
        assertEquals("***", config.at("/flags/jwt_secret").asText());
        assertEquals("json", config.at("/flags/log_format").asText());
        assertFalse(stderr.contains(TestBroker.ADMIN_TOKEN) || stderr.contains(TestBroker.JWT_SECRET), stderr);
        assertTrue(event(lines, "listening").get("port").asInt() > 0);
        event(lines, "stopping");
        event(lines, "stopped");
        JsonNode access = lines.stream().filter(l -> "request".equals(l.path("event").asText())
                && "/sse".equals(l.path("path").asText())).findFirst().orElseThrow(() -> new AssertionError(stderr));
        assertEquals(200, access.get("status").asInt());
        assertFalse(stderr.contains(jwt) || stderr.contains("access_token") || stderr.contains("pw-of-lin")
                || stderr.contains("\"lin\"") || stderr.contains("t1\""), stderr);
    }

    private static JsonNode event(List<JsonNode> lines, String event) {
        return lines.stream().filter(line -> event.equals(line.path("event").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + event + " event in " + lines));
    }

    private static String post(HttpClient http, String uri, String body) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(uri))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }
}
