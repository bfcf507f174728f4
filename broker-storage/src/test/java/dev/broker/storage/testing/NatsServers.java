package dev.broker.storage.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.jetstream.JetStreamSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Real {@code nats-server} processes with JetStream for tests: one node, or a cluster of three with routes between
 * them, all on loopback ports the kernel picked, each with its store under a directory the test owns (a JUnit
 * {@code @TempDir}). Every method that starts a node waits until the node reports itself healthy (its monitoring
 * endpoint {@code /healthz}: JetStream enabled and current with its cluster). {@link #close()} kills every node; a
 * shutdown hook does too, should the test JVM end first.
 *
 * <pre>{@code
 * try (NatsServers nats = NatsServers.cluster(tempDir)) {
 *     JetStreamStorage storage = JetStreamStorage.open(nats.settings(3, "test"));
 *     nats.kill(1);           // kill -9 one node
 *     nats.start(1);          // again, same ports and store
 * }
 * }</pre>
 *
 * The server binary is {@code nats-server} on the {@code PATH}, or {@code /usr/sbin/nats-server} (Debian).
 */
public final class NatsServers implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    /** The nodes' ports: 20000-31999, handed out in turn from a random start so that runs do not repeat them. */
    private static final int FIRST_PORT = 20_000;
    private static final int PORT_RANGE = 12_000;
    private static final AtomicInteger nextPort = new AtomicInteger(ThreadLocalRandom.current().nextInt(PORT_RANGE));

    private final List<Node> nodes;
    private final Thread killOnExit = new Thread(this::killAll, "nats-servers-kill");

    private NatsServers(List<Node> nodes) {
        this.nodes = nodes;
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** One JetStream node (replicas 1 only), started and healthy. */
    public static NatsServers single(Path directory) {
        return start(directory, 1);
    }

    /** Three JetStream nodes in one cluster (replicas up to 3), started and healthy. */
    public static NatsServers cluster(Path directory) {
        return start(directory, 3);
    }

    private static NatsServers start(Path directory, int count) {
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int clusterPort = count > 1 ? freePort() : 0;
            nodes.add(new Node(directory.resolve("n" + i), "n" + i, freePort(), freePort(), clusterPort));
        }
        NatsServers servers = new NatsServers(nodes);
        try {
            for (Node node : nodes) {
                node.writeConfig(nodes);
                node.start();
            }
            servers.awaitHealthy(nodes);
            return servers;
        } catch (RuntimeException | Error e) {
            servers.close();
            throw e;
        }
    }

    /** Client URLs of every node, {@code nats://127.0.0.1:port}. */
    public List<String> urls() {
        return nodes.stream().map(Node::url).collect(Collectors.toList());
    }

    /** Client URL of node {@code index}. */
    public String url(int index) {
        return nodes.get(index).url();
    }

    public int size() {
        return nodes.size();
    }

    /** Settings for a {@link dev.broker.storage.jetstream.JetStreamStorage} on every node of these servers. */
    public JetStreamSettings settings(int replicas, String prefix) {
        return new JetStreamSettings(urls(), replicas, prefix, null, null);
    }

    /** Kills node {@code index} with SIGKILL (no chance to flush or leave the cluster) and waits for it to end. */
    public void kill(int index) {
        nodes.get(index).kill();
    }

    /** Stops node {@code index} with SIGTERM (an orderly shutdown) and waits for it to end. */
    public void stop(int index) {
        nodes.get(index).stop();
    }

    /**
     * Freezes node {@code index} (SIGSTOP): its connections stay open but nothing is answered, like a hung server.
     * {@link #resume} thaws it.
     */
    public void pause(int index) {
        Node node = nodes.get(index);
        node.signal("STOP");
        awaitState(node, "T", "stopped");
    }

    /** Thaws a node {@link #pause}d (SIGCONT). */
    public void resume(int index) {
        Node node = nodes.get(index);
        node.signal("CONT");
        awaitState(node, "RS", "running again");
    }

    /** Waits until the node's process state (Linux {@code /proc/<pid>/stat}) is one of {@code states}. */
    private static void awaitState(Node node, String states, String what) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Path stat = Path.of("/proc", Long.toString(node.process.pid()), "stat");
        while (true) {
            try {
                String text = Files.readString(stat, UTF_8);
                char state = text.charAt(text.lastIndexOf(')') + 2);
                if (states.indexOf(state) >= 0) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("nats-server " + node.name + " not " + what + ": " + state);
                }
                Thread.sleep(5);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Starts node {@code index} again, on the same ports and store, and waits until it is healthy. */
    public void start(int index) {
        Node node = nodes.get(index);
        node.start();
        awaitHealthy(List.of(node));
    }

    /** Stops every node (SIGTERM). */
    public void stopAll() {
        nodes.forEach(Node::stop);
    }

    /** Starts every stopped node again and waits until all are healthy (a cluster needs a majority to be). */
    public void startAll() {
        List<Node> started = new ArrayList<>();
        for (Node node : nodes) {
            if (!node.isRunning()) {
                node.start();
                started.add(node);
            }
        }
        awaitHealthy(nodes);
    }

    /** Kills every node. Idempotent. */
    @Override
    public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs or ran anyway
        }
    }

    private void killAll() {
        nodes.forEach(Node::kill);
    }

    private void awaitHealthy(List<Node> which) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (Node node : which) {
            while (!node.healthy()) {
                if (!node.isRunning()) {
                    throw new IllegalStateException("nats-server " + node.name + " exited with "
                            + node.process.exitValue() + "; see " + node.log);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("nats-server " + node.name + " not healthy within "
                            + READY_TIMEOUT + "; see " + node.log);
                }
                try {
                    Thread.sleep(50); // polling a process we do not control; bounded by the deadline
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for nats-server", e);
                }
            }
        }
    }

    /**
     * A free port below the kernel's ephemeral range (32768 and up). A port the kernel picked from that range and
     * this method closed again could be taken, before the node binds it or while a killed node is down, as the
     * source port of any outgoing connection (the edges' and the tests' own): the node then fails to start.
     */
    private static int freePort() {
        for (int attempt = 0; attempt < PORT_RANGE; attempt++) {
            int port = FIRST_PORT + Math.floorMod(nextPort.getAndIncrement(), PORT_RANGE);
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException inUse) {
                // taken: try the next one
            }
        }
        throw new IllegalStateException("no free port in " + FIRST_PORT + "-" + (FIRST_PORT + PORT_RANGE - 1));
    }

    private static String binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nats-server"))) {
                return Path.of(dir, "nats-server").toString();
            }
        }
        return "/usr/sbin/nats-server";
    }

    private static final class Node {
        final Path directory;
        final String name;
        final int clientPort;
        final int monitorPort;
        final int clusterPort;
        final Path config;
        final Path log;
        Process process;

        Node(Path directory, String name, int clientPort, int monitorPort, int clusterPort) {
            this.directory = directory;
            this.name = name;
            this.clientPort = clientPort;
            this.monitorPort = monitorPort;
            this.clusterPort = clusterPort;
            this.config = directory.resolve("nats-server.conf");
            this.log = directory.resolve("nats-server.log");
        }

        String url() {
            return "nats://127.0.0.1:" + clientPort;
        }

        void writeConfig(List<Node> all) {
            StringBuilder text = new StringBuilder()
                    .append("server_name: ").append(name).append('\n')
                    .append("listen: 127.0.0.1:").append(clientPort).append('\n')
                    .append("http: 127.0.0.1:").append(monitorPort).append('\n')
                    // Room for Broker's largest events (a 1 MiB request body), as conf/ recommends.
                    .append("max_payload: 8MB\n")
                    .append("jetstream {\n  store_dir: \"").append(directory.resolve("store")).append("\"\n")
                    .append("  max_memory_store: 256MB\n  max_file_store: 2GB\n}\n");
            if (clusterPort != 0) {
                text.append("cluster {\n  name: broker-test\n  listen: 127.0.0.1:").append(clusterPort)
                        .append("\n  routes: [\n");
                for (Node other : all) {
                    if (other != this) {
                        text.append("    nats-route://127.0.0.1:").append(other.clusterPort).append('\n');
                    }
                }
                text.append("  ]\n}\n");
            }
            try {
                Files.createDirectories(directory);
                Files.writeString(config, text.toString(), UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        synchronized void start() {
            if (isRunning()) {
                throw new IllegalStateException("nats-server " + name + " is running");
            }
            try {
                process = new ProcessBuilder(binary(), "-c", config.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start nats-server (is it installed?)", e);
            }
        }

        synchronized boolean isRunning() {
            return process != null && process.isAlive();
        }

        synchronized void kill() {
            if (process != null) {
                process.destroyForcibly();
                awaitExit();
            }
        }

        synchronized void stop() {
            if (process != null) {
                process.destroy();
                awaitExit();
            }
        }

        synchronized void signal(String signal) {
            if (!isRunning()) {
                throw new IllegalStateException("nats-server " + name + " is not running");
            }
            try {
                Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
                if (!kill.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || kill.exitValue() != 0) {
                    throw new IllegalStateException("kill -" + signal + " failed");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private void awaitExit() {
            try {
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }

        /** {@code /healthz} answers 200 once JetStream is enabled and current with the cluster's leaders. */
        boolean healthy() {
            if (!isRunning()) {
                return false;
            }
            try {
                HttpURLConnection http = (HttpURLConnection) URI.create(
                        "http://127.0.0.1:" + monitorPort + "/healthz").toURL().openConnection();
                http.setConnectTimeout(1000);
                http.setReadTimeout(1000);
                try {
                    return http.getResponseCode() == 200;
                } finally {
                    http.disconnect();
                }
            } catch (IOException notYet) {
                return false;
            }
        }
    }
}
