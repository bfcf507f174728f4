package dev.broker.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.ForkedBroker;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.TestBroker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tenant whose snapshot is far too large to cache (20,000 event names of about 200 bytes, some 4 MB) and 300
 * streams opening at once, against a real server in its own JVM with a small heap: every stream gets the whole
 * snapshot, in id order, {@code /healthz} answers promptly meanwhile; then 500 streams that vanish part-way; and
 * the server keeps serving afterwards.
 * Without a bound on the memory of history reads, each stream held a snapshot read of its own and the server ran
 * out of memory.
 */
@Timeout(120)
class SseLargeSnapshotStormTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NAMES = 20_000;
    private static final int STREAMS = 300;
    private static final int CLIENT_THREADS = 3;
    private static final int LEAVERS = 500;
    private static final int LEAVER_THREADS = 5;
    private static final int INSERT_CONNECTIONS = 8;
    /** Requests per pipelined batch on one connection: the server runs 16 at a time and queues up to 256. */
    private static final int INSERT_BATCH = 64;
    private static final long HISTORY_BUDGET_BYTES = 10L * 1024 * 1024;
    private static final Duration STORM_DEADLINE = Duration.ofSeconds(45);
    private static final Duration HEALTHZ_PROMPTLY = Duration.ofSeconds(2);
    private static final Pattern GC_AFTER = Pattern.compile("->(\\d+)M\\(");

    @TempDir
    Path dir;

    @Test
    void everyStreamGetsTheWholeUncachedSnapshotWhileTheServerStaysResponsive() throws Exception {
        Path gcLog = dir.resolve("gc.log");
        List<String> jvm = List.of("-Xmx192m", "-XX:+UseSerialGC", "-Xlog:gc:file=" + gcLog);
        // A budget that holds one snapshot read of the tenant (some 6 MB on the heap) but not two: the loops' reads
        // take turns, and a read whose bytes were never given back would stall every later one.
        try (ForkedBroker fork = ForkedBroker.start(dir.resolve("db"), Duration.ofSeconds(60), jvm,
                "--sse_history_budget_bytes=" + HISTORY_BUDGET_BYTES)) {
            int port = fork.port();
            String jwt = createUserAndLogIn(port);

            long setupStart = System.nanoTime();
            long[] idRange = insertNames(port, jwt);
            long setupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - setupStart);

            HealthWatch health = new HealthWatch(port, fork.pid());
            ExecutorService threads = Executors.newFixedThreadPool(CLIENT_THREADS + 1);
            long stormStart = System.nanoTime();
            try {
                Future<?> watching = threads.submit(health);
                List<Future<List<String>>> clients = new ArrayList<>();
                for (int t = 0; t < CLIENT_THREADS; t++) {
                    int streams = STREAMS / CLIENT_THREADS + (t < STREAMS % CLIENT_THREADS ? 1 : 0);
                    clients.add(threads.submit(new SnapshotReaders(port, jwt, streams, idRange, false)));
                }
                List<String> failures = new ArrayList<>();
                for (Future<List<String>> client : clients) {
                    failures.addAll(client.get(STORM_DEADLINE.toSeconds() + 15, TimeUnit.SECONDS));
                }
                long stormMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stormStart);
                health.over = true;
                watching.get(15, TimeUnit.SECONDS);
                System.out.printf("large snapshot storm: setup %d ms; %d streams x %d events in %d ms; %s; largest"
                                + " heap after GC %d MiB%n", setupMillis, STREAMS, NAMES, stormMillis, health,
                        largestHeapAfterGc(gcLog));
                assertTrue(failures.isEmpty(), failures.size() + " of " + STREAMS + " streams failed, e.g. "
                        + failures.subList(0, Math.min(5, failures.size())) + "; server stderr: " + tail(fork));
            } finally {
                health.over = true;
                threads.shutdownNow();
                threads.awaitTermination(15, TimeUnit.SECONDS);
            }
            assertTrue(health.slowestKept < HEALTHZ_PROMPTLY.toMillis(), "/healthz took " + health.slowestKept
                    + " ms during the storm");
            assertTrue(health.slowestNew < RawHttp.READ_TIMEOUT.toMillis(), "/healthz on a new connection took "
                    + health.slowestNew + " ms during the storm");

            // Then 500 streams that leave part-way, a few right after the head, as the clients of a reconnect storm
            // do: their reads are given back, and the next stream gets the whole snapshot.
            ExecutorService leavers = Executors.newFixedThreadPool(LEAVER_THREADS);
            try {
                List<Future<List<String>>> clients = new ArrayList<>();
                for (int t = 0; t < LEAVER_THREADS; t++) {
                    clients.add(leavers.submit(
                            new SnapshotReaders(port, jwt, LEAVERS / LEAVER_THREADS, idRange, true)));
                }
                for (Future<List<String>> client : clients) {
                    List<String> failures = client.get(STORM_DEADLINE.toSeconds() + 15, TimeUnit.SECONDS);
                    assertTrue(failures.isEmpty(), "streams that were to leave part-way failed: "
                            + failures.subList(0, Math.min(5, failures.size())) + "; server stderr: " + tail(fork));
                }
                List<String> failures = leavers.submit(new SnapshotReaders(port, jwt, 1, idRange, false))
                        .get(STORM_DEADLINE.toSeconds() + 15, TimeUnit.SECONDS);
                assertTrue(failures.isEmpty(), "after the leavers: " + failures + "; server stderr: " + tail(fork));
            } finally {
                leavers.shutdownNow();
                leavers.awaitTermination(15, TimeUnit.SECONDS);
            }

            // Afterwards the server keeps serving: a resumed stream gets a new insert.
            try (SseClient stream = SseClient.connect(port, "/sse?access_token=" + jwt, "Last-Event-ID",
                    Long.toString(idRange[1]))) {
                assertEquals(200, stream.status());
                long id = insert(port, jwt, "after-the-storm");
                SseClient.Event event = stream.next(Duration.ofSeconds(10));
                assertEquals(Long.toString(id), event.id());
            }
            try (RawHttp http = RawHttp.connect(port)) {
                assertEquals(200, http.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").readResponse().status());
            }
            assertTrue(fork.process().isAlive(), "server died; stderr: " + tail(fork));
        }
    }

    private static String createUserAndLogIn(int port) throws IOException {
        try (RawHttp http = RawHttp.connect(port)) {
            RawHttp.Response created = http.send(post("/create_user", null, "{\"username\":\"storm\",\"password\":"
                    + "\"storm-password\",\"admin_token\":\"" + TestBroker.ADMIN_TOKEN
                    + "\",\"tenant_name\":\"big\"}")).readResponse();
            assertEquals(200, created.status(), created.bodyText());
            RawHttp.Response login = http.send(post("/login", null,
                    "{\"username\":\"storm\",\"password\":\"storm-password\"}")).readResponse();
            assertEquals(200, login.status(), login.bodyText());
            return JSON.readTree(login.body()).get("jwt").asText();
        }
    }

    /** Inserts one event of each name, pipelined over a few connections; returns the smallest and largest id. */
    private static long[] insertNames(int port, String jwt) throws Exception {
        String padding = "x".repeat(180);
        ExecutorService inserters = Executors.newFixedThreadPool(INSERT_CONNECTIONS);
        try {
            List<Future<long[]>> parts = new ArrayList<>();
            for (int c = 0; c < INSERT_CONNECTIONS; c++) {
                int connection = c;
                parts.add(inserters.submit(() -> {
                    long min = Long.MAX_VALUE;
                    long max = 0;
                    try (RawHttp http = RawHttp.connect(port)) {
                        for (int from = connection; from < NAMES; from += INSERT_CONNECTIONS * INSERT_BATCH) {
                            StringBuilder batch = new StringBuilder();
                            int sent = 0;
                            for (int i = from; i < NAMES && sent < INSERT_BATCH; i += INSERT_CONNECTIONS, sent++) {
                                batch.append(post("/insert", jwt, "{\"event\":\"name-" + i + "\",\"data\":{\"i\":" + i
                                        + ",\"pad\":\"" + padding + "\"}}"));
                            }
                            http.send(batch.toString());
                            for (int i = 0; i < sent; i++) {
                                RawHttp.Response answer = http.readResponse();
                                assertEquals(200, answer.status(), answer.bodyText());
                                long id = JSON.readTree(answer.body()).get("id").asLong();
                                min = Math.min(min, id);
                                max = Math.max(max, id);
                            }
                        }
                    }
                    return new long[] {min, max};
                }));
            }
            long min = Long.MAX_VALUE;
            long max = 0;
            for (Future<long[]> part : parts) {
                long[] range = part.get(60, TimeUnit.SECONDS);
                min = Math.min(min, range[0]);
                max = Math.max(max, range[1]);
            }
            assertEquals(NAMES, max - min + 1, "ids of the inserts");
            return new long[] {min, max};
        } finally {
            inserters.shutdownNow();
        }
    }

    private static long insert(int port, String jwt, String name) throws IOException {
        try (RawHttp http = RawHttp.connect(port)) {
            RawHttp.Response answer = http.send(post("/insert", jwt, "{\"event\":\"" + name + "\",\"data\":1}"))
                    .readResponse();
            assertEquals(200, answer.status(), answer.bodyText());
            JsonNode body = JSON.readTree(answer.body());
            return body.get("id").asLong();
        }
    }

    private static String post(String path, String jwt, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + (jwt == null ? "" : "Authorization: Bearer " + jwt + "\r\n")
                + "Content-Length: " + bytes.length + "\r\n\r\n" + body;
    }

    /**
     * Asks /healthz every 100 ms until the storm is over, on a connection kept open (the event loops' latency) and
     * on a new one (which also waits for the storm's own connections to be accepted and served), and notes the
     * server's peak RSS and open files.
     */
    private static final class HealthWatch implements Callable<Void> {
        private final int port;
        private final long pid;
        volatile boolean over;
        volatile long slowestKept;
        volatile long slowestNew;
        volatile long peakRss;
        volatile long peakFiles;

        HealthWatch(int port, long pid) {
            this.port = port;
            this.pid = pid;
        }

        @Override
        public Void call() throws Exception {
            try (RawHttp kept = RawHttp.connect(port)) {
                while (!over) {
                    slowestKept = Math.max(slowestKept, probe(kept));
                    try (RawHttp fresh = RawHttp.connect(port)) {
                        slowestNew = Math.max(slowestNew, probe(fresh));
                    }
                    peakRss = Math.max(peakRss, rss(pid));
                    peakFiles = Math.max(peakFiles, openFiles(pid));
                    Thread.sleep(100);
                }
            }
            return null;
        }

        /** Milliseconds to the answer; RawHttp's read timeout if none came. */
        private static long probe(RawHttp http) {
            long start = System.nanoTime();
            try {
                RawHttp.Response answer = http.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").readResponse();
                assertEquals(200, answer.status(), answer.bodyText());
            } catch (AssertionError | RuntimeException e) {
                return RawHttp.READ_TIMEOUT.toMillis();
            }
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }

        @Override
        public String toString() {
            return "slowest /healthz " + slowestKept + " ms (" + slowestNew + " ms on a new connection); peak RSS "
                    + (peakRss >> 20) + " MiB, " + peakFiles + " open files";
        }
    }

    private static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException notLinux) {
            // no number, then
        }
        return 0;
    }

    private static long openFiles(long pid) {
        try (var files = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return files.count();
        } catch (IOException | RuntimeException notLinux) {
            return 0;
        }
    }

    private static long largestHeapAfterGc(Path gcLog) {
        long largest = 0;
        try {
            for (String line : Files.readAllLines(gcLog)) {
                Matcher after = GC_AFTER.matcher(line);
                if (after.find()) {
                    largest = Math.max(largest, Long.parseLong(after.group(1)));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return largest;
    }

    private static String tail(ForkedBroker fork) {
        String err = fork.stderr();
        return err.length() <= 4000 ? err : "..." + err.substring(err.length() - 4000);
    }

    /**
     * Streams on one thread over non-blocking sockets: each sends {@code GET /sse}, and counts the frames' ids,
     * which must be every id of the range, ascending; returns what went wrong, one line per failed stream.
     */
    private static final class SnapshotReaders implements Callable<List<String>> {

        private final int port;
        private final String jwt;
        private final int count;
        private final long firstId;
        private final long lastId;
        /** Whether the streams leave part-way (each after its own number of events) instead of reading it all. */
        private final boolean leaving;

        SnapshotReaders(int port, String jwt, int count, long[] idRange, boolean leaving) {
            this.port = port;
            this.jwt = jwt;
            this.count = count;
            this.firstId = idRange[0];
            this.lastId = idRange[1];
            this.leaving = leaving;
        }

        /** One stream's parser: the head, then "id:" lines (a small state machine over the bytes). */
        private final class Stream {
            final int number;
            /** Events to read before the stream is done: all, or (leaving) a number spread over 0..NAMES/4. */
            final int target;
            final StringBuilder head = new StringBuilder();
            boolean headDone;
            int state; // 0 line start, 1 "i", 2 "id", 3 digits after "id:", 4 rest of the line
            long id;
            long lastSeen;
            int events;
            String failure;

            Stream(int number) {
                this.number = number;
                this.target = leaving ? (number * 7919) % (NAMES / 4) : NAMES;
            }

            boolean complete() {
                return headDone && events >= target;
            }

            void accept(ByteBuffer bytes) {
                while (bytes.hasRemaining() && failure == null) {
                    byte b = bytes.get();
                    if (!headDone) {
                        head.append((char) b);
                        if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
                            headDone = true;
                            if (!head.toString().startsWith("HTTP/1.1 200")) {
                                failure = "stream " + number + ": " + head;
                            }
                        }
                        continue;
                    }
                    switch (state) {
                        case 0 -> state = b == 'i' ? 1 : b == '\n' ? 0 : 4;
                        case 1 -> state = b == 'd' ? 2 : b == '\n' ? 0 : 4;
                        case 2 -> {
                            state = b == ':' ? 3 : b == '\n' ? 0 : 4;
                            id = 0;
                        }
                        case 3 -> {
                            if (b >= '0' && b <= '9') {
                                id = id * 10 + (b - '0');
                            } else if (b == '\n') {
                                event(id);
                                state = 0;
                            } else {
                                state = 4;
                            }
                        }
                        default -> state = b == '\n' ? 0 : 4;
                    }
                }
            }

            private void event(long eventId) {
                long expected = events == 0 ? firstId : lastSeen + 1;
                if (eventId != expected) {
                    failure = "stream " + number + ": event " + events + " has id " + eventId + ", expected "
                            + expected;
                }
                lastSeen = eventId;
                events++;
                if (events == NAMES && eventId != lastId) {
                    failure = "stream " + number + ": last id " + eventId + ", expected " + lastId;
                }
            }

            @Override
            public String toString() {
                return "stream " + number + ": " + events + " of " + NAMES + " events"
                        + (headDone ? "" : ", no response head");
            }
        }

        @Override
        public List<String> call() throws IOException {
            List<String> failures = new ArrayList<>();
            List<SocketChannel> sockets = new ArrayList<>();
            byte[] request = ("GET /sse?access_token=" + jwt + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
            long deadline = System.nanoTime() + STORM_DEADLINE.toNanos();
            try (Selector selector = Selector.open()) {
                for (int i = 0; i < count; i++) {
                    SocketChannel socket = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                    sockets.add(socket);
                    socket.write(ByteBuffer.wrap(request));
                    socket.configureBlocking(false);
                    socket.register(selector, SelectionKey.OP_READ, new Stream(i));
                }
                int open = count;
                while (open > 0 && System.nanoTime() < deadline) {
                    selector.select(200);
                    for (SelectionKey key : selector.selectedKeys()) {
                        Stream stream = (Stream) key.attachment();
                        buffer.clear();
                        int read;
                        try {
                            read = ((SocketChannel) key.channel()).read(buffer);
                        } catch (IOException e) {
                            read = -1;
                        }
                        buffer.flip();
                        stream.accept(buffer);
                        if (stream.failure != null || stream.complete() || read < 0) {
                            if (stream.failure != null) {
                                failures.add(stream.failure);
                            } else if (!stream.complete()) {
                                failures.add(stream + ", closed by the server");
                            }
                            key.cancel();
                            open--;
                            if (leaving && stream.complete()) {
                                // Vanishes mid-snapshot, with a reset.
                                SocketChannel socket = (SocketChannel) key.channel();
                                socket.setOption(StandardSocketOptions.SO_LINGER, 0);
                                socket.close();
                            }
                        }
                    }
                    selector.selectedKeys().clear();
                }
                for (SelectionKey key : selector.keys()) {
                    if (key.isValid()) {
                        failures.add(key.attachment() + " within " + STORM_DEADLINE);
                    }
                }
            } finally {
                for (SocketChannel socket : sockets) {
                    socket.close();
                }
            }
            return failures;
        }
    }
}
