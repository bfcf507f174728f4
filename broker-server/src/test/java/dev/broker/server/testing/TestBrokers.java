package dev.broker.server.testing;

import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.Flags;
import dev.broker.storage.testing.NatsServers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test servers that close themselves: each started with its database in a fresh temporary directory, and closed
 * (the directory deleted) after the test, whatever happened in it. Use it as
 * {@code @RegisterExtension final TestBrokers brokers = new TestBrokers();} and call {@link #start()} in a test or
 * a {@code @BeforeEach}. On a test class marked {@link OnNats}, the servers are cluster edges over a real NATS
 * JetStream instead, each test with a stream and bucket of its own.
 */
public final class TestBrokers implements BeforeEachCallback, AfterEachCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TestBrokers.class);
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private final List<TestBroker> started = new ArrayList<>();
    private final List<Path> directories = new ArrayList<>();
    /** With {@link OnNats}: the test's flags for the shared NATS server; identity otherwise. */
    private UnaryOperator<BrokerConfig> backend = UnaryOperator.identity();

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!context.getRequiredTestClass().isAnnotationPresent(OnNats.class)) {
            backend = UnaryOperator.identity();
            return;
        }
        // One nats-server for the whole run: stored in the root context, which closes it when the run ends.
        SharedNats nats = context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(SharedNats.class, type -> SharedNats.start(), SharedNats.class);
        String prefix = "t" + PREFIXES.incrementAndGet() + "_" + ProcessHandle.current().pid();
        backend = config -> config.with(Flags.NATS, nats.servers.urls())
                .with(Flags.NATS_REPLICAS, 1)
                .with(Flags.NATS_PREFIX, prefix);
    }

    /** The run's one NATS server, closed (and its store deleted) by JUnit at the end of the run. */
    private record SharedNats(Path dir, NatsServers servers)
            implements ExtensionContext.Store.CloseableResource, AutoCloseable {

        static SharedNats start() {
            try {
                Path dir = Files.createTempDirectory("broker-nats-");
                return new SharedNats(dir, NatsServers.single(dir));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            servers.close();
            deleteTree(dir);
        }
    }

    /** A server with the test configuration. */
    public TestBroker start() {
        return start(UnaryOperator.identity());
    }

    /** A server with the test configuration adjusted by {@code tweak}. */
    public TestBroker start(UnaryOperator<BrokerConfig> tweak) {
        Path dir;
        try {
            dir = Files.createTempDirectory("broker-test-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        directories.add(dir);
        UnaryOperator<BrokerConfig> onBackend = backend;
        TestBroker broker = TestBroker.start(dir, config -> tweak.apply(onBackend.apply(config)));
        started.add(broker);
        return broker;
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
        started.clear();
        for (Path dir : directories) {
            deleteTree(dir);
        }
        directories.clear();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
