package dev.broker.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.NodeTools;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The console end to end in headless Chromium: {@code src/test/js/console/console-e2e.mjs} drives the system's
 * {@code chromium} through npm {@code playwright-core} (installed by {@code npm ci} into
 * {@code target/console-browser}; no browser is downloaded) against a real server: log in, create a user, watch its
 * tenant, insert, see the events, revoke, with the page's visible text checked at each step and any console error or
 * Content-Security-Policy violation failing the run. Screenshots go to {@code target/console-screenshots}. Needs
 * {@code node}, {@code npm} and {@code chromium} on the PATH, or {@code BROKER_SKIP_NODE_TESTS=1} to skip.
 */
@Timeout(420)
class ConsoleBrowserTest {

    private static final String NEEDED_FOR = "the console's browser test needs Node.js 20+ and Debian's chromium";
    private static final List<String> NODE_FILES = List.of("package.json", "package-lock.json", "console-e2e.mjs");
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    @Test
    void anOperatorManagesUsersAndWatchesEventsInTheBrowser() throws Exception {
        Path node = NodeTools.requireOnPath("node", NEEDED_FOR);
        Path npm = NodeTools.requireOnPath("npm", NEEDED_FOR);
        Path chromium = NodeTools.requireOnPath("chromium", NEEDED_FOR);
        Path work = prepare(npm);
        Path screenshots = NodeTools.targetDirectory("console-screenshots");
        TestBroker broker = brokers.start();

        Process process = new ProcessBuilder(node.toString(), "console-e2e.mjs", broker.uri("/").toString(),
                TestBroker.ADMIN_TOKEN, screenshots.toString(), chromium.toRealPath().toString())
                .directory(work.toFile())
                .redirectError(work.resolve("node.err").toFile())
                .start();
        List<String> output = new ArrayList<>();
        try {
            BlockingQueue<String> lines = NodeTools.linesOf(process.getInputStream(), "console-e2e-stdout");
            if (!process.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("the browser run took longer than " + RUN_TIMEOUT + "; stderr: " + stderr(work));
            }
            lines.drainTo(output);
            // The reader may still be at the last line; the process is done, so it arrives at once.
            String last = lines.poll(5, TimeUnit.SECONDS);
            if (last != null) {
                output.add(last);
            }
        } finally {
            NodeTools.destroyWithDescendants(process);
        }
        assertTrue(!output.isEmpty(), "no output from the browser run; stderr: " + stderr(work));
        JsonNode result = JSON.readTree(output.get(output.size() - 1));
        assertTrue(result.path("ok").asBoolean(), "the browser run failed: " + result.toPrettyString()
                + "\nstderr: " + stderr(work));
        assertEquals(0, process.exitValue());

        // What the page showed, as text.
        JsonNode seen = result.get("seen");
        String username = result.get("username").asText();
        assertEquals("Broker console", seen.get("title").asText());
        assertTrue(seen.get("wrongToken").asText().contains("Wrong admin token"));
        assertTrue(seen.get("duplicate").asText().contains("username already taken"), seen.toString());
        assertTrue(seen.get("tailGreeting").asText().contains("\"hello\": \"from the console\""), seen.toString());
        assertTrue(seen.get("revokedRow").asText().contains("revoked"), seen.toString());
        for (String shot : List.of("01-login", "02-users", "03-tail", "04-revoked")) {
            Path file = screenshots.resolve(shot + ".png");
            assertTrue(Files.size(file) > 1000, file + " is missing or empty");
        }

        // And the server agrees: the user exists, revoked.
        HttpResult user = broker.post("/get_user", JSON.createObjectNode().put("admin_token", TestBroker.ADMIN_TOKEN)
                .put("username", username).toString());
        assertEquals(200, user.status(), user.body());
        assertTrue(user.json().get("revoked").asBoolean());
    }

    /** Copies the Node side into {@code target/console-browser} and installs it there unless its lock is unchanged. */
    private static Path prepare(Path npm) throws IOException, InterruptedException {
        Path source = Path.of(System.getProperty("basedir", ".")).resolve("src/test/js/console").toAbsolutePath();
        Path work = NodeTools.targetDirectory("console-browser");
        Path installedLock = work.resolve("node_modules").resolve(".package-lock.json");
        boolean installed = Files.isRegularFile(work.resolve("node_modules/playwright-core/package.json"))
                && Files.isRegularFile(work.resolve("package-lock.json"))
                && Files.mismatch(work.resolve("package-lock.json"), source.resolve("package-lock.json")) == -1
                && Files.isRegularFile(installedLock);
        for (String file : NODE_FILES) {
            Files.copy(source.resolve(file), work.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!installed) {
            NodeTools.npm(npm, work, "ci", "--no-audit", "--no-fund");
        }
        return work;
    }

    private static String stderr(Path work) throws IOException {
        Path file = work.resolve("node.err");
        return Files.exists(file) ? Files.readString(file) : "";
    }
}
