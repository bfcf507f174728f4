package dev.broker.server.cluster;

import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.ForkedBroker;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import dev.broker.storage.testing.NatsServers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/** Broker edges of one cluster over real {@code nats-server}s: in-process or forked, and the waits between them. */
final class Edges {

    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private Edges() {
    }

    /** A stream, subject and bucket prefix no other test of the run uses. */
    static String freshPrefix() {
        return "c" + PREFIXES.incrementAndGet() + "_" + ProcessHandle.current().pid();
    }

    /** The flags that make a server an edge of the cluster on {@code nats} under {@code prefix}. */
    static UnaryOperator<BrokerConfig> clusterFlags(NatsServers nats, String prefix, int replicas) {
        return config -> config.with(Flags.NATS, nats.urls())
                .with(Flags.NATS_REPLICAS, replicas)
                .with(Flags.NATS_PREFIX, prefix);
    }

    /** An in-process edge (closed by {@code brokers} after the test). */
    static TestBroker start(TestBrokers brokers, NatsServers nats, String prefix, int replicas) {
        return brokers.start(clusterFlags(nats, prefix, replicas));
    }

    /** An edge in its own JVM, which a test can kill with SIGKILL. */
    static ForkedBroker fork(Path dir, NatsServers nats, String prefix, int replicas) {
        try {
            Files.createDirectories(dir); // for the fork's stderr file; the edge itself writes nothing there
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> flags = new ArrayList<>(List.of("--nats", String.join(",", nats.urls()), "--nats_replicas",
                Integer.toString(replicas), "--nats_prefix", prefix));
        return ForkedBroker.start(dir.resolve("unused-db"), Duration.ofSeconds(60), ForkedBroker.DEFAULT_JVM_OPTIONS,
                flags.toArray(String[]::new));
    }

    /** Waits until {@code edge} accepts the user's token: the user's creation has reached it through the feed. */
    static void awaitKnown(TestBroker edge, User user) {
        awaitTrue(() -> edge.get("/verify", user.bearer()).status() == 200, Duration.ofSeconds(10),
                "the user created on another edge never became known here");
    }

    /** Polls {@code condition} until it holds, failing the test after {@code timeout}. */
    static void awaitTrue(BooleanSupplier condition, Duration timeout, String failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(failure + " (within " + timeout + ")");
            }
            pause();
        }
    }

    /** Polls {@code request} until its answer has {@code status}, failing the test after {@code timeout}. */
    static HttpResult awaitStatus(java.util.function.Supplier<HttpResult> request, int status, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpResult last = null;
        while (true) {
            try {
                last = request.get();
                if (last.status() == status) {
                    return last;
                }
            } catch (java.io.UncheckedIOException | IllegalStateException e) {
                // a request may time out while the edge waits for NATS; try again
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + status + " within " + timeout + "; last answer: "
                        + (last == null ? "none" : last.status() + " " + last.body()));
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50); // polling state held in other processes: nothing to wait on
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
