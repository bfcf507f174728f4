package dev.broker.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * What the tests that run Node (the npm client, the console in a browser) share: finding the tools, {@code npm}
 * runs with a deadline, a process's output as lines, and stopping a process with whatever it started.
 */
public final class NodeTools {

    /** Set to {@code 1} where Node (or the browser) cannot be installed: the tests that need them are skipped. */
    public static final String SKIP_VARIABLE = "BROKER_SKIP_NODE_TESTS";
    /** How long an {@code npm install} may take (it downloads from the registry the first time). */
    public static final Duration NPM_TIMEOUT = Duration.ofMinutes(5);

    private NodeTools() {
    }

    /** The executable on the PATH; fails the test if there is none, unless {@value #SKIP_VARIABLE}=1. */
    public static Path requireOnPath(String name, String neededFor) {
        Optional<Path> found = List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .stream()
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry, name))
                .filter(Files::isExecutable)
                .findFirst();
        if (found.isPresent()) {
            return found.get();
        }
        if ("1".equals(System.getenv(SKIP_VARIABLE))) {
            Assumptions.abort(name + " is not on the PATH and " + SKIP_VARIABLE + "=1");
        }
        return fail(name + " is not on the PATH: " + neededFor + " (set " + SKIP_VARIABLE
                + "=1 to skip it where it cannot be installed)");
    }

    /** The module's {@code target/<name>} directory, created. */
    public static Path targetDirectory(String name) throws IOException {
        Path dir = Path.of(System.getProperty("basedir", ".")).resolve("target").resolve(name).toAbsolutePath();
        Files.createDirectories(dir);
        return dir;
    }

    /** Runs {@code npm <args>} in {@code dir}, its output in {@code dir/npm.log}; fails the test unless it succeeds. */
    public static void npm(Path npm, Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(npm.toString()));
        command.addAll(List.of(args));
        Path log = dir.resolve("npm.log");
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!process.waitFor(NPM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            destroyWithDescendants(process);
            fail(String.join(" ", command) + " took longer than " + NPM_TIMEOUT);
        }
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + Files.readString(log));
    }

    /** The lines of a process's output as they come, read on a daemon thread. */
    public static BlockingQueue<String> linesOf(InputStream stream, String threadName) {
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
        }, threadName);
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    /** Kills a process and everything it started (a browser under Node), children first. */
    public static void destroyWithDescendants(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
