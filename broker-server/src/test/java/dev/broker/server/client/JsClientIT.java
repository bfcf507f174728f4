package dev.broker.server.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the JavaScript client's own suite ({@code clients/js}: {@code npm ci}, then {@code npm test}) against this
 * build's server jar. The Node tests start {@code java -jar broker.jar} themselves, kill and restart it, and drive
 * the system's Chromium, so this runs in the {@code integration-test} phase (failsafe), after {@code package} has
 * built {@code target/broker.jar}: the client is tested against the very artifact that ships.
 *
 * <p>Needs {@code node} and {@code npm} on the PATH (and {@code chromium} for the browser test): without Node the
 * test fails, unless {@code BROKER_SKIP_NODE_TESTS=1} is set. The Node runner's output goes to
 * {@code target/js-client/npm-test.log}; a failure quotes its end.
 */
@Timeout(600)
class JsClientIT {

    private static final Duration NPM_CI_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration NPM_TEST_TIMEOUT = Duration.ofMinutes(5);
    private static final int QUOTED_LOG_LINES = 80;

    @Test
    void javascriptClientSuitePassesAgainstThePackagedServer() throws Exception {
        Path npm = requireOnPath("npm");
        requireOnPath("node");
        Path module = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        Path client = module.resolveSibling("clients").resolve("js").normalize();
        Path jar = module.resolve("target").resolve("broker.jar");
        assertTrue(Files.isRegularFile(client.resolve("package-lock.json")), "no JavaScript client at " + client);
        assertTrue(Files.isRegularFile(jar), "no server jar at " + jar + ": run this in the integration-test phase");
        Path logs = Files.createDirectories(module.resolve("target").resolve("js-client"));

        run(List.of(npm.toString(), "ci", "--no-audit", "--no-fund"), client, Map.of(),
                logs.resolve("npm-ci.log"), NPM_CI_TIMEOUT);
        run(List.of(npm.toString(), "test"), client, Map.of("BROKER_JAR", jar.toString()),
                logs.resolve("npm-test.log"), NPM_TEST_TIMEOUT);
    }

    private static void run(List<String> command, Path directory, Map<String, String> environment, Path log,
                            Duration timeout) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                fail(String.join(" ", command) + " took longer than " + timeout + ":\n" + tail(log));
            }
            assertEquals(0, process.exitValue(), String.join(" ", command) + " failed:\n" + tail(log));
        } finally {
            // npm test's own children (servers, browsers) are stopped by the Node tests; this stops npm itself
            // should the test time out.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - QUOTED_LOG_LINES), lines.size()));
    }

    /** The executable on the PATH; fails the test if there is none, unless BROKER_SKIP_NODE_TESTS=1. */
    private static Path requireOnPath(String name) {
        Optional<Path> found = List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
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
        return fail(name + " is not on the PATH: the JavaScript client's tests need Node.js 20+ and npm"
                + " (set BROKER_SKIP_NODE_TESTS=1 to skip them where Node cannot be installed)");
    }
}
