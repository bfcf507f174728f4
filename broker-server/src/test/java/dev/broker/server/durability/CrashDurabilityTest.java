package dev.broker.server.durability;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.ForkedBroker;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * "A 200 means the event is durable": a real server process is killed with SIGKILL while inserts are in flight,
 * and every insert it acknowledged (and the user it created) is there when a server opens the same database.
 */
@Timeout(120)
class CrashDurabilityTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int INSERTERS = 4;
    /** Acknowledged inserts to wait for before the kill. */
    private static final int BEFORE_KILL = 300;
    /** Upper bound on inserts per thread, so the loop ends even if the kill never comes. */
    private static final int MAX_PER_THREAD = 5_000;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedInsertSurvivesAKill9() throws Exception {
        killWhileInserting(0);
    }

    /**
     * The same after 96 MiB written first (in another tenant): the memtables have been flushed several times, so
     * the WAL the kill interrupts is a recycled one, written over an obsolete WAL's old records.
     */
    @Test
    void everyAcknowledgedInsertInARecycledWalSurvivesAKill9() throws Exception {
        killWhileInserting(96);
    }

    private void killWhileInserting(int prefillMib) throws Exception {
        Map<Long, String> acknowledged = new ConcurrentHashMap<>();
        String username = "crash-user";
        String password = "crash-password";
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        List<Thread> inserters = new ArrayList<>();
        int exitValue;

        try (ForkedBroker fork = ForkedBroker.start(dir.resolve("db"), Duration.ofSeconds(60))) {
            HttpClient setup = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            post(setup, fork.port(), "/create_user", "{\"username\":\"" + username + "\",\"password\":\"" + password
                    + "\",\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"crash\"}", null, 200);
            String jwt = post(setup, fork.port(), "/login",
                    "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}", null, 200)
                    .get("jwt").asText();
            prefill(setup, fork.port(), prefillMib);

            for (int t = 0; t < INSERTERS; t++) {
                int thread = t;
                Thread inserter = new Thread(() -> {
                    // One client per thread: its connection is kept alive across the inserts.
                    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    for (int i = 0; i < MAX_PER_THREAD && !stop.get(); i++) {
                        String data = "{\"t\":" + thread + ",\"i\":" + i + "}";
                        try {
                            JsonNode answer = post(http, fork.port(), "/insert",
                                    "{\"event\":\"e" + thread + "\",\"data\":" + data + "}", jwt, 200);
                            acknowledged.put(Long.parseLong(answer.get("id").asText()), "e" + thread + " " + data);
                        } catch (IOException | InterruptedException serverGone) {
                            return;
                        } catch (AssertionError | RuntimeException e) {
                            unexpected.compareAndSet(null, e);
                            return;
                        }
                    }
                }, "crash-inserter-" + t);
                inserter.setDaemon(true);
                inserter.start();
                inserters.add(inserter);
            }

            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (acknowledged.size() < BEFORE_KILL) {
                assertTrue(System.nanoTime() < deadline, "only " + acknowledged.size() + " inserts acknowledged; "
                        + "server stderr: " + fork.stderr());
                assertTrue(inserters.stream().anyMatch(Thread::isAlive), "every inserter stopped early; server stderr: "
                        + fork.stderr());
                Thread.sleep(10);
            }
            assertTrue(inserters.stream().allMatch(Thread::isAlive), "inserts must still be in flight at the kill");
            exitValue = fork.kill9(Duration.ofSeconds(10));
        } finally {
            stop.set(true);
            for (Thread inserter : inserters) {
                inserter.join(30_000);
            }
        }
        if (unexpected.get() != null) {
            throw new AssertionError("an insert failed before the kill", unexpected.get());
        }
        assertEquals(ForkedBroker.SIGKILL_EXIT, exitValue, "the server must have died of SIGKILL");
        assertTrue(acknowledged.size() >= BEFORE_KILL);

        try (TestBroker broker = TestBroker.start(dir)) {
            // The user was acknowledged, so it survived: the old password logs in.
            User user = new User(username, password, "crash", broker.login(username, password));
            long maxAcknowledged = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
            long sentinel = insert(broker, user, "sentinel", "null");
            assertTrue(sentinel > maxAcknowledged, "new id " + sentinel + " must be above every acknowledged id ("
                    + maxAcknowledged + ")");

            try (SseClient replay = subscribe(broker, user, "", "Last-Event-ID", "0")) {
                List<SseClient.Event> events = replay.nextUntilId(sentinel, PROMPTLY.multipliedBy(3));
                Map<Long, String> replayed = new ConcurrentHashMap<>();
                long previous = 0;
                for (SseClient.Event event : events) {
                    assertTrue(event.idAsLong() > previous, "ids must strictly increase: " + previous + " then "
                            + event.idAsLong());
                    previous = event.idAsLong();
                    replayed.put(event.idAsLong(), event.name() + " " + event.data());
                }
                List<String> lost = new ArrayList<>();
                acknowledged.forEach((id, content) -> {
                    if (!content.equals(replayed.get(id))) {
                        lost.add(id + "=" + content + " (replayed: " + replayed.get(id) + ")");
                    }
                });
                assertTrue(lost.isEmpty(), lost.size() + " of " + acknowledged.size()
                        + " acknowledged inserts were lost or changed by the crash: " + lost);
            }
        }
    }

    /** Inserts about {@code mib} MiB of events as a user of a tenant of its own. */
    private static void prefill(HttpClient http, int port, int mib) throws IOException, InterruptedException {
        if (mib == 0) {
            return;
        }
        post(http, port, "/create_user", "{\"username\":\"filler\",\"password\":\"filler-password\",\"admin_token\":\""
                + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"fill\"}", null, 200);
        String jwt = post(http, port, "/login", "{\"username\":\"filler\",\"password\":\"filler-password\"}", null,
                200).get("jwt").asText();
        String body = "{\"event\":\"fill\",\"data\":\"" + "x".repeat(768 << 10) + "\"}";
        for (int i = 0; i < mib * 4 / 3; i++) {
            post(http, port, "/insert", body, jwt, 200);
        }
    }

    /** POSTs and returns the JSON answer; throws AssertionError on another status, IOException if the server is gone. */
    private static JsonNode post(HttpClient http, int port, String path, String body, String jwt, int expectedStatus)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (jwt != null) {
            request.header("Authorization", "Bearer " + jwt);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != expectedStatus) {
            throw new AssertionError(path + ": " + response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body());
    }
}
