package dev.broker.server.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Real {@code nats-server} processes with JetStream on loopback ports, each with its store in a temporary directory:
 * one node, or a cluster whose nodes route to each other. Nodes can be killed (SIGKILL) and started again on the same
 * ports and store. {@link #close()} kills every node and deletes the stores.
 */
public final class NatsNodes implements AutoCloseable {

    /** Debian installs nats-server in /usr/sbin, which is not on every user's PATH. */
    private static final List<Path> FALLBACK_LOCATIONS = List.of(Path.of("/usr/sbin/nats-server"),
            Path.of("/usr/local/bin/nats-server"), Path.of("/usr/bin/nats-server"));

    private record Node(String name, int clientPort, int clusterPort, int monitorPort, Path dir, Path config) {
    }

    private final Path root;
    private final List<Node> nodes = new ArrayList<>();
    private final Process[] processes;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private NatsNodes(Path root, int count) throws IOException {
        this.root = root;
        this.processes = new Process[count];
        int[] clusterPorts = new int[count];
        int[] clientPorts = new int[count];
        int[] monitorPorts = new int[count];
        for (int i = 0; i < count; i++) {
            clientPorts[i] = freePort();
            clusterPorts[i] = freePort();
            monitorPorts[i] = freePort();
        }
        for (int i = 0; i < count; i++) {
            String name = "n" + (i + 1);
            Path dir = Files.createDirectories(root.resolve(name));
            StringBuilder config = new StringBuilder()
                    .append("server_name: ").append(name).append('\n')
                    .append("listen: 127.0.0.1:").append(clientPorts[i]).append('\n')
                    .append("http: 127.0.0.1:").append(monitorPorts[i]).append('\n')
                    .append("jetstream { store_dir: \"").append(dir.resolve("js")).append("\", max_mem: 64MB,"
                            + " max_file: 1GB }\n");
            if (count > 1) {
                final int self = i;
                String routes = java.util.stream.IntStream.range(0, count).filter(j -> j != self)
                        .mapToObj(j -> "nats-route://127.0.0.1:" + clusterPorts[j])
                        .collect(Collectors.joining(", "));
                config.append("cluster { name: broker-test, listen: 127.0.0.1:").append(clusterPorts[i])
                        .append(", routes: [").append(routes).append("] }\n");
            }
            Path file = dir.resolve("nats.conf");
            Files.writeString(file, config, StandardCharsets.UTF_8);
            nodes.add(new Node(name, clientPorts[i], clusterPorts[i], monitorPorts[i], dir, file));
        }
    }

    /** Starts {@code count} nodes (a cluster when more than one) and waits until JetStream is ready on each. */
    public static NatsNodes start(int count) {
        try {
            NatsNodes cluster = new NatsNodes(Files.createTempDirectory("broker-nats-"), count);
            try {
                for (int i = 0; i < count; i++) {
                    cluster.launch(i);
                }
                cluster.awaitReady(Duration.ofSeconds(30));
                return cluster;
            } catch (RuntimeException | Error e) {
                cluster.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a {@code nats-server} binary is installed (the cluster tests need one). */
    public static boolean installed() {
        return binary() != null;
    }

    /** The client URLs of every node, comma-separated, as {@code --nats} takes them. */
    public String urls() {
        return nodes.stream().map(n -> "nats://127.0.0.1:" + n.clientPort).collect(Collectors.joining(","));
    }

    public int size() {
        return nodes.size();
    }

    /** Kills node {@code i} with SIGKILL (no shutdown of its own) and waits until it is gone. */
    public void kill(int i) {
        Process process = processes[i];
        if (process != null) {
            process.destroyForcibly();
            waitFor(process);
            processes[i] = null;
        }
    }

    /** Kills every node. */
    public void killAll() {
        for (int i = 0; i < processes.length; i++) {
            kill(i);
        }
    }

    /** Starts node {@code i} again (same ports and store) after {@link #kill}. */
    public void restart(int i) {
        launch(i);
        awaitReady(Duration.ofSeconds(30));
    }

    /** Starts every killed node again and waits until JetStream is ready on all. */
    public void restartAll() {
        for (int i = 0; i < processes.length; i++) {
            if (processes[i] == null) {
                launch(i);
            }
        }
        awaitReady(Duration.ofSeconds(60));
    }

    private void launch(int i) {
        Node node = nodes.get(i);
        Path binary = binary();
        if (binary == null) {
            throw new IllegalStateException("nats-server is not installed (apt-get install nats-server)");
        }
        try {
            processes[i] = new ProcessBuilder(binary.toString(), "-c", node.config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(node.dir.resolve("nats.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start nats-server", e);
        }
    }

    /** Polls every running node's {@code /healthz} (200 once JetStream is up and, in a cluster, has a leader). */
    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 0; i < nodes.size(); i++) {
            if (processes[i] == null) {
                continue;
            }
            URI healthz = URI.create("http://127.0.0.1:" + nodes.get(i).monitorPort + "/healthz");
            while (true) {
                if (!processes[i].isAlive()) {
                    throw new IllegalStateException("nats-server " + nodes.get(i).name + " exited: " + log(i));
                }
                try {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(healthz)
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        break;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("nats-server " + nodes.get(i).name + " not ready: " + log(i));
                }
                try {
                    Thread.sleep(50); // polling a child process's readiness: there is nothing to wait on
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private String log(int i) {
        try {
            String text = Files.readString(nodes.get(i).dir.resolve("nats.log"));
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() {
        killAll();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path binary() {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                Path candidate = Path.of(dir, "nats-server");
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return FALLBACK_LOCATIONS.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    private static void waitFor(Process process) {
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("nats-server did not die");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
