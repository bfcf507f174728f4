package dev.broker.server.client;

import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.NodeTools;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
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
    private static final String NEEDED_FOR = "the broker-client compatibility test needs Node.js 20+";
    private static final Duration EVENT_TIMEOUT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void brokerClientReceivesTheSnapshotThenLiveEvents() throws Exception {
        Path node = NodeTools.requireOnPath("node", NEEDED_FOR);
        Path npm = NodeTools.requireOnPath("npm", NEEDED_FOR);
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
                BlockingQueue<String> lines = NodeTools.linesOf(process.getInputStream(), "node-probe-stdout");

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

    /**
     * Installs the package into {@code target/node-client} if needed and lays out a runnable copy:
     * {@code probe/broker-client/{index.js,utils.js,package.json}} and {@code probe/broker-client-probe.mjs}.
     */
    private static Path prepareProbe(Path npm) throws Exception {
        Path work = NodeTools.targetDirectory("node-client");
        Path installed = work.resolve("node_modules").resolve("broker-client");
        if (!Files.isRegularFile(installed.resolve("index.js"))) {
            NodeTools.npm(npm, work, "install", "--no-audit", "--no-fund", "--no-package-lock", PACKAGE);
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
}
