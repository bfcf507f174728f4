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
import java.io.OutputStream;
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
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The unlucky operator's afternoon, for real, in a forked server: RocksDB fails a WAL write because the process
 * has no descriptor left (limited to {@link #OPEN_FILES} and flooded with connections, the connection cap lifted so
 * that they can take every descriptor) or because the disk is full
 * (a small tmpfs, filled up; root only). Big inserts make RocksDB switch memtables, which needs a new WAL file.
 * While the cause lasts, writes answer 503 with Retry-After and /healthz answers 503; once it is removed the store
 * reopens by itself, /healthz answers 200 again within {@link #RECOVERY_BOUND}, and every insert acknowledged
 * before the failure is still there. And with the default connection cap, the same flood cannot take the store's
 * descriptors: writes go on.
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
    /** The full-disk test's tmpfs: the 17 MiB the WAL preallocates fit, and the recovered memtable's flush. */
    private static final int SMALL_DISK_MIB = 64;
    /** Recovery retries every 2 s at most; reopening takes well under a second. */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    /** What makes the store fail its writes, for as long as the test wants. */
    private interface Cause {
        /** Words of the /healthz reason while it lasts. */
        String reason();

        void begin() throws Exception;

        void end() throws Exception;
    }

    @Test
    void writesAnswer503WhileNoDescriptorIsLeftAndRecoverOnceConnectionsClose() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "counts the server's descriptors in /proc (Linux)");
        // The default cap (the limit less a reserve) would refuse the flood before it took the store's descriptors.
        try (ForkedBroker fork = ForkedBroker.startWithOpenFilesLimit(dir.resolve("db"), Duration.ofSeconds(60),
                OPEN_FILES, "--max_connections", "1000000")) {
            List<Socket> flood = new ArrayList<>();
            run(fork, new Cause() {
                @Override
                public String reason() {
                    return "too many open files";
                }

                @Override
                public void begin() throws Exception {
                    flood.addAll(floodUntilNoDescriptorIsLeft(fork));
                }

                @Override
                public void end() throws IOException {
                    for (Socket socket : flood) {
                        socket.close();
                    }
                }
            });
        }
    }

    @Test
    void withTheDefaultConnectionCapAFloodLeavesTheStoreItsDescriptors() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "counts the server's descriptors in /proc (Linux)");
        // The cap derived from a limit of 512: half of it (the reserve of 1,000 is capped at half the limit).
        int cap = OPEN_FILES / 2;
        try (ForkedBroker fork = ForkedBroker.startWithOpenFilesLimit(dir.resolve("db"), Duration.ofSeconds(60),
                OPEN_FILES); RawHttp control = RawHttp.connect(fork.port())) {
            List<Socket> flood = new ArrayList<>();
            try {
                assertEquals(200, createUser(control, "alice").status());
                String jwt = JSON.readTree(post(control, "/login",
                        "{\"username\":\"alice\",\"password\":\"pw-alice\"}", null).bodyText()).get("jwt").asText();
                for (int i = 0; i < OPEN_FILES; i++) {
                    Socket socket = new Socket();
                    socket.connect(new InetSocketAddress("127.0.0.1", fork.port()), 5_000);
                    flood.add(socket);
                }
                int expectedRefusals = OPEN_FILES - (cap - 1);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (answered(flood) < expectedRefusals) {
                    assertTrue(System.nanoTime() < deadline, answered(flood) + " of the flood refused, not "
                            + expectedRefusals);
                    Thread.sleep(50);
                }
                assertTrue(descriptorsOf(fork) < OPEN_FILES - 100, "the server holds " + descriptorsOf(fork)
                        + " of its " + OPEN_FILES + " descriptors");

                // Enough big inserts for the memtable to switch, which takes a new WAL file: a descriptor.
                for (int i = 0; i < 40; i++) {
                    String data = "{\"big\":" + i + ",\"pad\":\"" + "x".repeat(BIG_DATA_CHARS) + "\"}";
                    insertOk(control, jwt, "big", data);
                }
                assertEquals(200, get(control, "/healthz").status());
            } finally {
                for (Socket socket : flood) {
                    socket.close();
                }
            }
        }
    }

    /** Connections of the flood the server answered: it answers them only with its refusal. */
    private static int answered(List<Socket> flood) throws IOException {
        int answered = 0;
        for (Socket socket : flood) {
            if (socket.getInputStream().available() > 0) {
                answered++;
            }
        }
        return answered;
    }

    @Test
    void writesAnswer503WhileTheDiskIsFullAndRecoverOnceThereIsRoom() throws Exception {
        assumeTrue(isRoot(), "mounts a small tmpfs as the server's disk: needs root (CI runs as root)");
        // The mount is the database directory itself, so that the server's stderr (next to it) stays writable.
        Path disk = dir.resolve("small-disk");
        Files.createDirectories(disk);
        assumeTrue(command("mount", "-t", "tmpfs", "-o", "size=" + SMALL_DISK_MIB + "m", "tmpfs", disk.toString()),
                "cannot mount a tmpfs here");
        try (ForkedBroker fork = ForkedBroker.start(disk, Duration.ofSeconds(60))) {
            Path filler = disk.resolve("filler");
            run(fork, new Cause() {
                @Override
                public String reason() {
                    return "no space left on device";
                }

                @Override
                public void begin() throws IOException {
                    fill(filler);
                }

                @Override
                public void end() throws IOException {
                    Files.delete(filler);
                }
            });
        } finally {
            command("umount", disk.toString());
        }
    }

    private static void run(ForkedBroker fork, Cause cause) throws Exception {
        // One connection, opened before the cause and kept alive, carries every request until it ends.
        try (RawHttp control = RawHttp.connect(fork.port())) {
            runScenario(fork, control, cause);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + "; server stderr:\n" + fork.stderr(), e);
        }
    }

    private static void runScenario(ForkedBroker fork, RawHttp control, Cause cause) throws Exception {
        assertEquals(200, createUser(control, "alice").status());
        String jwt = JSON.readTree(post(control, "/login", "{\"username\":\"alice\",\"password\":\"pw-alice\"}",
                null).bodyText()).get("jwt").asText();
        Map<Long, String> acknowledged = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            String data = "{\"small\":" + i + "}";
            acknowledged.put(insertOk(control, jwt, "small", data), "small " + data);
        }

        cause.begin();
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
        assertNotNull(failed, "no insert failed in " + MAX_BIG_INSERTS + " big ones");
        assertUnavailable(failed, "insert");

        // Still failing while the cause lasts: every write is refused with 503, never 500.
        assertUnavailable(insert(control, jwt, "small", "1"), "insert");
        assertUnavailable(createUser(control, "bob"), "create_user");
        assertUnavailable(post(control, "/revoke_user", "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN
                + "\",\"username\":\"alice\"}", null), "revoke_user");
        RawHttp.Response health = get(control, "/healthz");
        assertEquals(503, health.status(), health.bodyText());
        assertTrue(health.bodyText().contains(cause.reason()), health.bodyText());
        Thread.sleep(3_000);
        assertEquals(503, get(control, "/healthz").status(), "no recovery while the cause lasts");

        cause.end();
        long ended = System.nanoTime();
        while (get(control, "/healthz").status() != 200) {
            assertTrue(System.nanoTime() - ended < RECOVERY_BOUND.toNanos(), "not healthy " + RECOVERY_BOUND
                    + " after the cause was removed");
            Thread.sleep(100);
        }
        System.out.println("StorageFailureTest (" + cause.reason() + "): healthy again "
                + (System.nanoTime() - ended) / 1_000_000 + " ms after the cause was removed");

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

    /** Writes zeros until the disk says ENOSPC, in ever smaller pieces, so that not one block is left. */
    private static void fill(Path filler) throws IOException {
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (int chunk = 1 << 20; chunk >= 512; chunk /= 2) {
                byte[] zeros = new byte[chunk];
                try {
                    while (true) {
                        out.write(zeros);
                    }
                } catch (IOException full) {
                    // the next, smaller chunk may still fit
                }
            }
        } catch (IOException closingAFullFile) {
            // tmpfs has nothing to flush; the bytes are there
        }
        assertTrue(Files.getFileStore(filler).getUsableSpace() < 4096, "the disk is not full");
    }

    private static boolean isRoot() throws Exception {
        Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
        String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        return id.waitFor() == 0 && uid.equals("0");
    }

    private static boolean command(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
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
