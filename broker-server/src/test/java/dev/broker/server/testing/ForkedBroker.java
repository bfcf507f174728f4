package dev.broker.server.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Broker in its own JVM ({@code dev.broker.server.Main} on the test classpath), for tests that must kill the
 * server the hard way or give it a heap of its own. Starts with {@code --port 0} and learns the port from the
 * {@code Broker listening on port N} line on stdout; stderr goes to a file next to the database.
 */
public final class ForkedBroker implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("^Broker listening on port (\\d+)$");
    /** Exit status of a JVM killed by SIGKILL, as {@link Process#exitValue()} reports it on Linux. */
    public static final int SIGKILL_EXIT = 128 + 9;
    /** The JVM options of a fork unless a test gives its own. */
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC");

    private final Process process;
    private final int port;
    private final Path stderr;
    private final List<String> stdout;

    private ForkedBroker(Process process, int port, Path stderr, List<String> stdout) {
        this.process = process;
        this.port = port;
        this.stderr = stderr;
        this.stdout = stdout;
    }

    /** Starts a server over {@code db} with the test admin token and JWT secret; waits until it listens. */
    public static ForkedBroker start(Path db, Duration startupTimeout) {
        return start(db, startupTimeout, List.of(), "dev.broker.server.Main", DEFAULT_JVM_OPTIONS);
    }

    /**
     * Starts a server as {@link #start(Path, Duration)} does, with these JVM options (a heap limit, GC logging)
     * instead of {@link #DEFAULT_JVM_OPTIONS}, and these flags after the test's own.
     */
    public static ForkedBroker start(Path db, Duration startupTimeout, List<String> jvmOptions, String... flags) {
        return start(db, startupTimeout, List.of(), "dev.broker.server.Main", jvmOptions, flags);
    }

    /**
     * Like {@link #start(Path, Duration)}, in a process that may open at most {@code openFiles} files and sockets
     * ({@code ulimit -n} sets the soft and the hard limit, so the JVM cannot raise it), with {@code flags} added to
     * the command line. Needs {@code sh}.
     */
    public static ForkedBroker startWithOpenFilesLimit(Path db, Duration startupTimeout, int openFiles,
                                                       String... flags) {
        // exec keeps the pid: pid() is the JVM's.
        return start(db, startupTimeout, List.of("sh", "-c", "ulimit -n \"$0\" && exec \"$@\"",
                Integer.toString(openFiles)), PreloadingMain.class.getName(), DEFAULT_JVM_OPTIONS, flags);
    }

    private static ForkedBroker start(Path db, Duration startupTimeout, List<String> launcher, String mainClass,
                                      List<String> jvmOptions, String... flags) {
        Path stderr = db.resolveSibling(db.getFileName() + "-server.err");
        List<String> command = new ArrayList<>(launcher);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp", System.getProperty("java.class.path"),
                mainClass,
                "--port", "0",
                "--bind", "127.0.0.1",
                "--db", db.toString(),
                "--admin_token", TestBroker.ADMIN_TOKEN,
                "--jwt_secret", TestBroker.JWT_SECRET));
        command.addAll(List.of(flags));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        // Settings from the environment must not leak into the fork.
        builder.environment().keySet().removeIf(name -> name.startsWith("BROKER_"));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        List<String> lines = new ArrayList<>();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                    Matcher matcher = LISTENING.matcher(line.trim());
                    if (matcher.matches()) {
                        listening.complete(Integer.parseInt(matcher.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // the process died
            } finally {
                listening.completeExceptionally(new IllegalStateException("stdout ended before the server listened"));
            }
        }, "forked-broker-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            int port = listening.get(startupTimeout.toMillis(), TimeUnit.MILLISECONDS);
            return new ForkedBroker(process, port, stderr, lines);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            throw new AssertionError("forked server did not start within " + startupTimeout + "; stdout: " + lines
                    + "; stderr: " + readQuietly(stderr), e);
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Sends SIGKILL (no shutdown hook runs) and returns the exit status once the process is gone. */
    public int kill9(Duration timeout) throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("process " + process.pid() + " still alive " + timeout + " after SIGKILL");
        }
        return process.exitValue();
    }

    /** What the server printed on stderr so far (for failure messages). */
    public String stderr() {
        return readQuietly(stderr);
    }

    public List<String> stdout() {
        synchronized (stdout) {
            return List.copyOf(stdout);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
