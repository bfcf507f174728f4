package dev.broker.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.ForkedBroker;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.TestBroker;
import dev.broker.storage.testing.NatsServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edge killed with SIGKILL while its clients stream loses nothing: the clients resume on another edge with
 * {@code Last-Event-ID} and get every event exactly once, in order. The edges are forked JVMs over a 3-node cluster.
 */
@Timeout(240)
class ClusterEdgeCrashTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PROMPTLY = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private NatsServers nats;
    private ForkedBroker doomed;
    private ForkedBroker survivor;

    @BeforeEach
    void start() {
        nats = NatsServers.cluster(dir.resolve("nats"));
        String prefix = Edges.freshPrefix();
        doomed = Edges.fork(dir.resolve("a"), nats, prefix, 3);
        survivor = Edges.fork(dir.resolve("b"), nats, prefix, 3);
    }

    @AfterEach
    void stop() {
        if (doomed != null) {
            doomed.close();
        }
        if (survivor != null) {
            survivor.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    @Test
    void clientsOfAKilledEdgeResumeOnAnotherWithNothingLostOrDuplicated() throws Exception {
        post(survivor, "/create_user", "{\"username\":\"ada\",\"password\":\"pw\",\"admin_token\":\""
                + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"acme\"}");
        String jwt = JSON.readTree(post(survivor, "/login", "{\"username\":\"ada\",\"password\":\"pw\"}"))
                .get("jwt").asText();
        String[] bearer = {"Authorization", "Bearer " + jwt};
        Edges.awaitTrue(() -> get(doomed, "/verify", bearer) == 200, Duration.ofSeconds(10),
                "the user never reached the other edge");

        int clients = 3;
        List<SseClient> streams = new ArrayList<>();
        List<List<Long>> received = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                streams.add(SseClient.connect(doomed.port(), "/sse", "Authorization", "Bearer " + jwt,
                        "Last-Event-ID", "0"));
                assertEquals(200, streams.get(i).status());
                received.add(new ArrayList<>());
            }
            List<Long> inserted = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                inserted.add(insert(survivor, jwt, i));
            }
            for (SseClient stream : streams) {
                stream.nextUntilId(inserted.get(9), PROMPTLY); // streaming, maybe not everything yet
            }
            assertEquals(ForkedBroker.SIGKILL_EXIT, doomed.kill9(Duration.ofSeconds(10)));
            for (int i = 20; i < 40; i++) {
                inserted.add(insert(survivor, jwt, i));
            }
            long last = inserted.get(inserted.size() - 1);
            for (int c = 0; c < clients; c++) {
                // Whatever arrived before the edge died counts; then the client resumes where it stopped.
                List<Long> mine = received.get(c);
                streams.get(c).receivedSoFar().forEach(event -> mine.add(event.idAsLong()));
                String resumeAfter = Long.toString(mine.get(mine.size() - 1));
                try (SseClient resumed = SseClient.connect(survivor.port(), "/sse", "Authorization", "Bearer " + jwt,
                        "Last-Event-ID", resumeAfter)) {
                    assertEquals(200, resumed.status());
                    for (SseClient.Event event : resumed.nextUntilId(last, PROMPTLY)) {
                        mine.add(event.idAsLong());
                    }
                }
                assertEquals(inserted, mine, "client " + c + " got every event once, in order");
            }
        } finally {
            streams.forEach(SseClient::close);
        }
    }

    private long insert(ForkedBroker edge, String jwt, int i) throws Exception {
        String body = post(edge, "/insert", "{\"event\":\"tick\",\"data\":" + i + "}", "Authorization",
                "Bearer " + jwt);
        long id = Long.parseLong(JSON.readTree(body).get("id").asText());
        assertTrue(id > 0);
        return id;
    }

    private String post(ForkedBroker edge, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + path))
                .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return response.body();
    }

    private int get(ForkedBroker edge, String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + path))
                .timeout(Duration.ofSeconds(20)).GET();
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
