package dev.broker.bench.jmh;

import dev.broker.storage.EventLog;
import dev.broker.storage.rocksdb.RocksStorage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The durable insert path: {@code RocksStorage.events().append(...)} until its future completes (fsync'd, published
 * to the feed). With one appender every insert pays a whole sync; with 64 or 256 concurrent appenders the single
 * writer group-commits whatever queued during the previous sync. Throughput is inserts per second (all threads).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class RocksAppendBench {

    private static final byte[] DATA = "{\"user\":\"ada\",\"text\":\"hello, world\",\"n\":42}".getBytes(StandardCharsets.US_ASCII);

    private Path directory;
    private RocksStorage storage;
    private EventLog log;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        directory = Files.createTempDirectory("broker-bench-rocks");
        storage = RocksStorage.open(directory);
        log = storage.events();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        storage.close();
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Per appender thread: an event name of its own, so the latest-per-name view sees many names. */
    @State(Scope.Thread)
    public static class Appender {
        final String name = "e" + Thread.currentThread().getId();
    }

    @Benchmark
    @Threads(1)
    public Object append1(Appender appender) {
        return log.append("acme", appender.name, DATA).join();
    }

    @Benchmark
    @Threads(64)
    public Object append64(Appender appender) {
        return log.append("acme", appender.name, DATA).join();
    }

    @Benchmark
    @Threads(256)
    public Object append256(Appender appender) {
        return log.append("acme", appender.name, DATA).join();
    }
}
