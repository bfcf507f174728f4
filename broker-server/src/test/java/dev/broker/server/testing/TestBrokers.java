package dev.broker.server.testing;

import dev.broker.server.config.BrokerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test servers that close themselves: each started with its database in a fresh temporary directory, and closed
 * (the directory deleted) after the test, whatever happened in it. Use it as
 * {@code @RegisterExtension final TestBrokers brokers = new TestBrokers();} and call {@link #start()} in a test or
 * a {@code @BeforeEach}.
 */
public final class TestBrokers implements AfterEachCallback {

    private final List<TestBroker> started = new ArrayList<>();
    private final List<Path> directories = new ArrayList<>();

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
        TestBroker broker = TestBroker.start(dir, tweak);
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
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
        directories.clear();
    }
}
