package dev.broker.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.TestBroker;
import dev.broker.storage.testing.NatsServers;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An edge that cannot work with NATS refuses to start: a clear message on stderr and a non-zero exit. */
@Timeout(120)
class ClusterStartTest {

    @TempDir
    Path dir;

    @Test
    void refusesToStartWhenNatsCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Exit exit = runMain("--nats", "nats://127.0.0.1:" + closedPort, "--nats_replicas", "1");
        assertEquals(1, exit.code, exit.stderr);
        assertTrue(exit.stderr.contains("broker: cannot start:") && exit.stderr.contains("cannot connect to NATS"),
                exit.stderr);
    }

    @Test
    void refusesToStartWhenItsStreamExistsWithSettingsItCannotWorkWith() throws Exception {
        try (NatsServers nats = NatsServers.single(dir.resolve("nats"))) {
            String prefix = Edges.freshPrefix();
            try (Connection connection = Nats.connect(nats.url(0))) {
                connection.jetStreamManagement().addStream(StreamConfiguration.builder()
                        .name(prefix + "_events")
                        .subjects("elsewhere.>")
                        .storageType(StorageType.Memory)
                        .build());
            }
            Exit exit = runMain("--nats", nats.url(0), "--nats_replicas", "1", "--nats_prefix", prefix);
            assertEquals(1, exit.code, exit.stderr);
            assertTrue(exit.stderr.contains("exists with settings Broker cannot work with"), exit.stderr);
        }
    }

    private record Exit(int code, String stderr) {
    }

    private Exit runMain(String... flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), "dev.broker.server.Main",
                "--port", "0", "--bind", "127.0.0.1", "--admin_token", TestBroker.ADMIN_TOKEN,
                "--jwt_secret", TestBroker.JWT_SECRET));
        command.addAll(List.of(flags));
        Path stderr = dir.resolve("stderr.txt");
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(stderr.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().keySet().removeIf(name -> name.startsWith("BROKER_"));
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the server did not give up within 60 s");
        }
        return new Exit(process.exitValue(), Files.readString(stderr, StandardCharsets.UTF_8));
    }
}
