package dev.broker.server.client;

import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract's framing rules exist for the published npm client {@code broker-client}: this runs its real
 * release under Node and checks that it gets the snapshot, then a live event, with the right names, data and ids.
 *
 * <p>Needs {@code node} and {@code npm} on the PATH: without them the test fails, unless
 * {@code BROKER_SKIP_NODE_TESTS=1} is set. The package is installed once into {@code target/node-client}.
 * Its {@code index.js} imports {@code ./utils} without an extension and its package.json declares no module type,
 * which Node's ESM loader rejects, so the test runs a copy with {@code "type": "module"} and {@code ./utils.js}.
 */
@Timeout(360)
class BrokerClientCompatibilityTest {

    private static final String PACKAGE = "broker-client@0.0.8";
    private static final Duration NPM_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration EVENT_TIMEOUT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void brokerClientReceivesTheSnapshotThenLiveEvents() throws Exception {
        Path node = requireOnPath("node");
        Path npm = requireOnPath("npm");
        Path probe = prepareProbe(npm);

        try (TestBroker broker = TestBroker.start(dir)) {
            User user = newUser(broker, "npm-client");
            insert(broker, user, "greeting", "{\"n\":1}");
            long status = insert(broker, user, "status", "{\"s\":\"é😀 \\\"quoted\\\"\", \"ok\": true}");
            long greeting = insert(broker, user, "greeting", "{\"n\":2}");

            Process process = new ProcessBuilder(node.toString(), probe.getFileName().toString(),
                    broker.uri("/sse").toString(), user.jwt(), "3", Long.toString(EVENT_TIMEOUT.toMillis()),
                    "greeting", "status", "live")
                    .directory(probe.getParent().toFile())
                    .redirectError(dir.resolve("node.err").toFile())
                    .start();
            try {
                BlockingQueue<String> lines = linesOf(process.getInputStream());

                // The snapshot: the latest event of each name, in id order.
                assertEvent(nextLine(lines, process), "status", status, "{\"s\":\"é😀 \\\"quoted\\\"\",\"ok\":true}");
                assertEvent(nextLine(lines, process), "greeting", greeting, "{\"n\":2}");

                // Then a live event.
                long live = insert(broker, user, "live", "[1, {\"x\": null}]");
                assertEvent(nextLine(lines, process), "live", live, "[1,{\"x\":null}]");

                assertTrue(process.waitFor(10, TimeUnit.SECONDS), "the probe did not exit");
                assertEquals(0, process.exitValue(), "probe exit status; stderr: " + stderr());
            } finally {
                process.destroyForcibly();
            }
        }
    }

    private static void assertEvent(JsonNode line, String event, long id, String dataJson) throws IOException {
        assertEquals(event, line.path("event").asText(null), line.toString());
        assertEquals(Long.toString(id), line.path("lastEventId").asText(null), line.toString());
        // The client hands the data line over as a string; it must be the JSON that was inserted.
        assertEquals(JSON.readTree(dataJson), JSON.readTree(line.path("data").asText()), line.toString());
    }

    private JsonNode nextLine(BlockingQueue<String> lines, Process process) throws Exception {
        String line = lines.poll(EVENT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        if (line == null) {
            fail("no output from the broker-client probe (alive: " + process.isAlive() + "); stderr: " + stderr());
        }
        JsonNode json;
        try {
            json = JSON.readTree(line);
        } catch (IOException e) {
            throw new AssertionError("probe printed: " + line + "; stderr: " + stderr(), e);
        }
        if (json.has("timeout")) {
            fail("broker-client received only " + json.get("received") + " events; stderr: " + stderr());
        }
        return json;
    }

    private String stderr() throws IOException {
        Path file = dir.resolve("node.err");
        return Files.exists(file) ? Files.readString(file) : "";
    }

    private static BlockingQueue<String> linesOf(InputStream stream) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // process gone
            }
        }, "node-probe-stdout");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    /**
     * Installs the package into {@code target/node-client} if needed and lays out a runnable copy:
     * {@code probe/broker-client/{index.js,utils.js,package.json}} and {@code probe/broker-client-probe.mjs}.
     */
    private static Path prepareProbe(Path npm) throws Exception {
        Path work = Path.of(System.getProperty("basedir", ".")).resolve("target").resolve("node-client").toAbsolutePath();
        Path installed = work.resolve("node_modules").resolve("broker-client");
        if (!Files.isRegularFile(installed.resolve("index.js"))) {
            Files.createDirectories(work);
            Process install = new ProcessBuilder(npm.toString(), "install", "--no-audit", "--no-fund",
                    "--no-package-lock", PACKAGE)
                    .directory(work.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(work.resolve("npm-install.log").toFile())
                    .start();
            if (!install.waitFor(NPM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                install.destroyForcibly();
                fail("npm install " + PACKAGE + " took longer than " + NPM_TIMEOUT);
            }
            assertEquals(0, install.exitValue(),
                    "npm install " + PACKAGE + ": " + Files.readString(work.resolve("npm-install.log")));
        }
        JsonNode manifest = JSON.readTree(installed.resolve("package.json").toFile());
        assertEquals("0.0.8", manifest.path("version").asText(), "installed broker-client version");

        Path probeDir = work.resolve("probe");
        Path module = probeDir.resolve("broker-client");
        Files.createDirectories(module);
        String index = Files.readString(installed.resolve("index.js"));
        String patched = index.replace("from './utils';", "from './utils.js';");
        assertTrue(!patched.equals(index), "broker-client's index.js no longer imports './utils': revisit the patch");
        Files.writeString(module.resolve("index.js"), patched);
        Files.copy(installed.resolve("utils.js"), module.resolve("utils.js"), StandardCopyOption.REPLACE_EXISTING);
        String moduleManifest = "{\"name\":\"broker-client\",\"version\":\"0.0.8\",\"type\":\"module\",\"main\":\"index.js\"}\n";
        Files.writeString(module.resolve("package.json"), moduleManifest);
        Files.writeString(probeDir.resolve("package.json"), "{\"private\":true,\"type\":\"module\"}\n");
        Path script = probeDir.resolve("broker-client-probe.mjs");
        try (InputStream resource = BrokerClientCompatibilityTest.class.getResourceAsStream("/node/broker-client-probe.mjs")) {
            assertTrue(resource != null, "test resource node/broker-client-probe.mjs is missing");
            Files.copy(resource, script, StandardCopyOption.REPLACE_EXISTING);
        }
        return script;
    }

    /** The executable on the PATH; fails the test if there is none, unless BROKER_SKIP_NODE_TESTS=1. */
    private static Path requireOnPath(String name) {
        Optional<Path> found = List.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .stream()
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry, name))
                .filter(Files::isExecutable)
                .findFirst();
        if (found.isPresent()) {
            return found.get();
        }
        if ("1".equals(System.getenv("BROKER_SKIP_NODE_TESTS"))) {
            Assumptions.abort(name + " is not on the PATH and BROKER_SKIP_NODE_TESTS=1");
        }
        return fail(name + " is not on the PATH: the broker-client compatibility test needs Node.js 20+"
                + " (set BROKER_SKIP_NODE_TESTS=1 to skip it where Node cannot be installed)");
    }
}
