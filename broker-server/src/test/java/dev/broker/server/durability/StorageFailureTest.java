package dev.broker.server.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.ForkedBroker;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.TestBroker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The unlucky operator's afternoon, for real: a server process limited to {@link #OPEN_FILES} descriptors is
 * flooded with connections until it has none left, and RocksDB fails the WAL write that needs a new log file
 * ("Too many open files"). While that lasts, writes answer 503 with Retry-After and /healthz answers 503; once the
 * flood is gone the store reopens by itself, /healthz answers 200 again within {@link #RECOVERY_BOUND}, and every
 * insert acknowledged before the failure is still there.
 */
@Timeout(180)
class StorageFailureTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The server's open-files limit: room for the JVM, its class path and the store, but not for a flood. */
    private static final int OPEN_FILES = 512;
    /**
     * Data of one big insert: 32 of them pass the 16 MiB memtable of the events column family, whose switch needs a
     * new WAL file, hence a descriptor. Below the 1 MiB body limit.
     */
    private static final int BIG_DATA_CHARS = 900_000;
    private static final int MAX_BIG_INSERTS = 80;
    /** Recovery retries every 2 s at most; reopening takes well under a second. */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    @Test
    void writesAnswer503WhileTheStoreCannotWriteAndRecoverOnceDescriptorsAreFree() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "counts the server's descriptors in /proc (Linux)");
        try (ForkedBroker fork = ForkedBroker.startWithOpenFilesLimit(dir.resolve("db"), Duration.ofSeconds(60),
                OPEN_FILES);
             RawHttp control = RawHttp.connect(fork.port())) {
            try {
                runScenario(fork, control);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "; server stderr:\n" + fork.stderr(), e);
            }
        }
    }

    private static void runScenario(ForkedBroker fork, RawHttp control) throws Exception {
        {
            // One connection, opened before the flood and kept alive, carries every request until it is released.
            assertEquals(200, createUser(control, "alice").status(), fork.stderr());
            String jwt = JSON.readTree(post(control, "/login", "{\"username\":\"alice\",\"password\":\"pw-alice\"}",
                    null).bodyText()).get("jwt").asText();
            Map<Long, String> acknowledged = new LinkedHashMap<>();
            for (int i = 0; i < 5; i++) {
                String data = "{\"small\":" + i + "}";
                acknowledged.put(insertOk(control, jwt, "small", data), "small " + data);
            }

            List<Socket> flood = floodUntilNoDescriptorIsLeft(fork);
            RawHttp.Response failed = null;
            for (int i = 0; i < MAX_BIG_INSERTS && failed == null; i++) {
                String data = "{\"big\":" + i + ",\"pad\":\"" + "x".repeat(BIG_DATA_CHARS) + "\"}";
                RawHttp.Response answer = insert(control, jwt, "big", data);
                if (answer.status() == 200) {
                    acknowledged.put(id(answer), "big " + data);
                } else {
                    failed = answer;
                }
            }
            assertNotNull(failed, "no insert failed in " + MAX_BIG_INSERTS + " big ones; server stderr: "
                    + fork.stderr());
            assertUnavailable(failed, "insert");

            // Still failing while the descriptors are taken: every write is refused with 503, never 500.
            assertUnavailable(insert(control, jwt, "small", "1"), "insert");
            assertUnavailable(createUser(control, "bob"), "create_user");
            assertUnavailable(post(control, "/revoke_user", "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN
                    + "\",\"username\":\"alice\"}", null), "revoke_user");
            RawHttp.Response health = get(control, "/healthz");
            assertEquals(503, health.status(), health.bodyText());
            assertTrue(health.bodyText().contains("too many open files"), health.bodyText());
            Thread.sleep(3_000);
            assertEquals(503, get(control, "/healthz").status(), "no recovery while the flood lasts");

            for (Socket socket : flood) {
                socket.close();
            }
            long released = System.nanoTime();
            while (get(control, "/healthz").status() != 200) {
                assertTrue(System.nanoTime() - released < RECOVERY_BOUND.toNanos(), "not healthy "
                        + RECOVERY_BOUND + " after the flood ended; server stderr: " + fork.stderr());
                Thread.sleep(100);
            }
            long recoveryMillis = (System.nanoTime() - released) / 1_000_000;
            System.out.println("StorageFailureTest: healthy again " + recoveryMillis + " ms after the flood ended");

            long after = insertOk(control, jwt, "after", "\"recovered\"");
            acknowledged.put(after, "after \"recovered\"");
            assertEquals(200, createUser(control, "bob").status());
            long maxBefore = acknowledged.keySet().stream().filter(id -> id != after).mapToLong(Long::longValue)
                    .max().orElseThrow();
            assertTrue(after > maxBefore + 1, "the failed insert's id " + (maxBefore + 1) + " must not be reused");
            assertEverythingAcknowledgedIsThere(fork.port(), jwt, acknowledged, after);

            // Said once, not once per request.
            String log = fork.stderr();
            assertEquals(1, count(log, "writes are refused until the database is reopened"), log);
            assertEquals(1, count(log, "recovered, writes accepted again"), log);
            assertEquals(0, count(log, "insert failed"), log);
        }
    }

    /**
     * Opens connections until the server holds all its descriptors: the ones it cannot accept wait in the backlog
     * and take any descriptor the server frees.
     */
    private static List<Socket> floodUntilNoDescriptorIsLeft(ForkedBroker fork) throws Exception {
        List<Socket> flood = new ArrayList<>();
        for (int i = 0; i < OPEN_FILES; i++) {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", fork.port()), 5_000);
            flood.add(socket);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (descriptorsOf(fork) < OPEN_FILES) {
            assertTrue(System.nanoTime() < deadline, "the server holds only " + descriptorsOf(fork) + " of "
                    + OPEN_FILES + " descriptors");
            Thread.sleep(50);
        }
        return flood;
    }

    private static long descriptorsOf(ForkedBroker fork) throws IOException {
        try (Stream<Path> entries = Files.list(Path.of("/proc", Long.toString(fork.pid()), "fd"))) {
            return entries.count();
        }
    }

    private static void assertEverythingAcknowledgedIsThere(int port, String jwt, Map<Long, String> acknowledged,
                                                            long last) throws Exception {
        try (SseClient replay = SseClient.connect(port, "/sse", "Authorization", "Bearer " + jwt,
                "Last-Event-ID", "0")) {
            assertEquals(200, replay.status());
            Map<Long, String> replayed = new LinkedHashMap<>();
            for (SseClient.Event event : replay.nextUntilId(last, Duration.ofSeconds(30))) {
                replayed.put(event.idAsLong(), event.name() + " " + event.data());
            }
            assertEquals(acknowledged.keySet(), replayed.keySet(), "exactly the acknowledged inserts");
            acknowledged.forEach((id, content) -> assertEquals(content, replayed.get(id), "event " + id));
        }
    }

    private static void assertUnavailable(RawHttp.Response answer, String operation) throws IOException {
        assertEquals(503, answer.status(), operation + ": " + answer.bodyText());
        assertNotNull(answer.header("retry-after"), operation + ": Retry-After");
        JsonNode error = JSON.readTree(answer.bodyText()).get("error");
        assertTrue(error != null && error.asText().contains("storage cannot write"), answer.bodyText());
    }

    private static RawHttp.Response createUser(RawHttp http, String username) {
        return post(http, "/create_user", "{\"username\":\"" + username + "\",\"password\":\"pw-" + username
                + "\",\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"acme\"}", null);
    }

    private static long insertOk(RawHttp http, String jwt, String event, String data) throws IOException {
        RawHttp.Response answer = insert(http, jwt, event, data);
        assertEquals(200, answer.status(), answer.bodyText());
        return id(answer);
    }

    private static long id(RawHttp.Response answer) throws IOException {
        return Long.parseLong(JSON.readTree(answer.bodyText()).get("id").asText());
    }

    private static RawHttp.Response insert(RawHttp http, String jwt, String event, String data) {
        return post(http, "/insert", "{\"event\":\"" + event + "\",\"data\":" + data + "}", jwt);
    }

    private static RawHttp.Response post(RawHttp http, String path, String body, String jwt) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + (jwt == null ? "" : "Authorization: Bearer " + jwt + "\r\n")
                + "Content-Length: " + bytes.length + "\r\n\r\n";
        http.send(head);
        http.send(bytes);
        return http.readResponse();
    }

    private static RawHttp.Response get(RawHttp http, String path) {
        return http.send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse();
    }

    private static int count(String text, String needle) {
        int count = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            count++;
        }
        return count;
    }
}
