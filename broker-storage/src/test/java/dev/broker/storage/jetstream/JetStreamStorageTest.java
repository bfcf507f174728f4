package dev.broker.storage.jetstream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.Event;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import dev.broker.storage.testing.NatsServers;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What is JetStream's own: start-up validation, payload and subject bounds, overload, a hung server. */
@Timeout(120)
class JetStreamStorageTest {

    private static final long TIMEOUT_SECONDS = 15;

    @TempDir
    static Path natsDir;
    private static NatsServers nats;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private final List<JetStreamStorage> opened = new ArrayList<>();
    private final String prefix = "single" + PREFIXES.incrementAndGet();

    @BeforeAll
    static void startNats() {
        nats = NatsServers.single(natsDir);
    }

    @AfterAll
    static void stopNats() {
        if (nats != null) {
            nats.close();
        }
    }

    @AfterEach
    void closeStores() {
        opened.forEach(JetStreamStorage::close);
    }

    private JetStreamStorage open(int replicas) {
        JetStreamStorage storage = JetStreamStorage.open(nats.settings(replicas, prefix));
        opened.add(storage);
        return storage;
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private static StorageException failureOf(CompletableFuture<?> future) {
        ExecutionException thrown = assertThrows(ExecutionException.class,
                () -> future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        return assertInstanceOf(StorageException.class, thrown.getCause());
    }

    private static void withManagement(Consumer<JetStreamManagement> action) throws Exception {
        try (Connection connection = Nats.connect(nats.url(0))) {
            action.accept(connection.jetStreamManagement());
        }
    }

    private void createStream(StreamConfiguration.Builder config) throws Exception {
        withManagement(management -> {
            try {
                management.addStream(config.name(prefix + "_events").build());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void openCreatesTheStreamAndBucketAndASecondOpenAcceptsThem() throws Exception {
        Event appended = await(open(1).events().append("acme", "n", "1".getBytes(UTF_8)));

        JetStreamStorage again = open(1);

        assertEquals(List.of(appended.id()), await(again.events().latest("acme")).stream().map(Event::id).toList());
        withManagement(management -> {
            try {
                StreamConfiguration events = management.getStreamInfo(prefix + "_events").getConfiguration();
                assertEquals(List.of(prefix + ".ev.>"), events.getSubjects());
                assertEquals(StorageType.File, events.getStorageType());
                assertEquals(1, events.getReplicas());
                assertEquals(StorageType.File,
                        management.getStreamInfo("KV_" + prefix + "_users").getConfiguration().getStorageType());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void openRefusesAStreamWithOtherSubjectsOrMemoryStorage() throws Exception {
        createStream(StreamConfiguration.builder().subjects("elsewhere.>").storageType(StorageType.Memory)
                .retentionPolicy(RetentionPolicy.WorkQueue));

        StorageException refused = assertThrows(StorageException.class, () -> open(1));

        String message = refused.getMessage();
        assertTrue(message.contains("events stream " + prefix + "_events"), message);
        assertTrue(message.contains("its subjects are [elsewhere.>], not [" + prefix + ".ev.>]"), message);
        assertTrue(message.contains("its storage is memory, not file"), message);
        assertTrue(message.contains("its retention is workqueue, not limits"), message);
    }

    @Test
    void openRefusesABucketWhoseValuesExpire() throws Exception {
        try (Connection connection = Nats.connect(nats.url(0))) {
            connection.keyValueManagement().create(KeyValueConfiguration.builder().name(prefix + "_users")
                    .storageType(StorageType.File).ttl(Duration.ofHours(1)).build());
        }

        StorageException refused = assertThrows(StorageException.class, () -> open(1));

        assertTrue(refused.getMessage().contains("users bucket " + prefix + "_users"), refused.getMessage());
        assertTrue(refused.getMessage().contains("its values expire"), refused.getMessage());
    }

    @Test
    void openAcceptsAnotherReplicaCountThanConfigured() throws Exception {
        open(1).close();

        // A single node cannot hold three replicas; the existing stream keeps its one, with a warning.
        JetStreamStorage storage = open(3);

        assertTrue(await(storage.events().append("acme", "n", "1".getBytes(UTF_8))).id() > 0);
    }

    @Test
    void openFailsClearlyWithoutAServer() {
        JetStreamSettings nowhere = JetStreamSettings.of("nats://127.0.0.1:1", 1, prefix);

        StorageException refused = assertThrows(StorageException.class, () -> JetStreamStorage.open(nowhere));

        assertTrue(refused.getMessage().startsWith("open: cannot connect to NATS at nats://127.0.0.1:1: "),
                refused.getMessage());
    }

    @Test
    void settingsRefuseWhatNatsCannotName() {
        assertThrows(IllegalArgumentException.class, () -> JetStreamSettings.of("nats://h:4222", 1, "a.b"));
        assertThrows(IllegalArgumentException.class, () -> JetStreamSettings.of("nats://h:4222", 1, ""));
        assertThrows(IllegalArgumentException.class, () -> JetStreamSettings.of("nats://h:4222", 0, "broker"));
        assertThrows(IllegalArgumentException.class,
                () -> new JetStreamSettings(List.of(), 1, "broker", null, null));
    }

    @Test
    void appendRefusesWhatNatsCannotCarry() throws Exception {
        JetStreamStorage storage = open(1);

        StorageException tooBig = failureOf(storage.events().append("acme", "n", new byte[9 << 20]));
        StorageException tooLong = failureOf(storage.events().append("\u4e2d".repeat(1024), "n", new byte[1]));
        Event largest = await(storage.events().append("acme", "n", new byte[1 << 20]));

        assertTrue(tooBig.getMessage().contains("max_payload"), tooBig.getMessage());
        assertTrue(tooLong.getMessage().contains("as a NATS subject"), tooLong.getMessage());
        assertEquals(1 << 20, await(storage.events().latest("acme")).get(0).data().length);
        assertEquals(largest.id(), await(storage.events().lastIssuedId()));
    }

    @Test
    void appendsBeyondTheInFlightBoundAreRefusedAsOverloadWhileTheServerHangs() throws Exception {
        int bound = 16;
        JetStreamStorage storage = JetStreamStorage.open(nats.settings(1, prefix), bound);
        opened.add(storage);
        assertTrue(storage.health().writable());
        List<CompletableFuture<Event>> inFlight = new ArrayList<>();
        CompletableFuture<Event> refused;
        nats.pause(0);
        try {
            for (int i = 0; i < bound; i++) {
                inFlight.add(storage.events().append("acme", "n", "1".getBytes(UTF_8)));
            }
            refused = storage.events().append("acme", "n", "1".getBytes(UTF_8));
            assertInstanceOf(StorageOverloadedException.class, failureOf(refused));
            assertTrue(inFlight.stream().noneMatch(CompletableFuture::isDone), "none acknowledged by a hung server");
        } finally {
            nats.resume(0);
        }

        int acknowledged = 0;
        for (CompletableFuture<Event> append : inFlight) {
            try {
                await(append);
                acknowledged++;
            } catch (ExecutionException e) {
                assertInstanceOf(StorageUnavailableException.class, e.getCause(), "outcome unknown, not acknowledged");
            }
        }
        assertTrue(acknowledged > 0, "the server answers again once thawed");
        assertTrue(await(storage.events().append("acme", "n", "2".getBytes(UTF_8))).id() > 0);
    }

    @Test
    void healthIsWritableWhileConnectedAndNotOnceClosed() throws Exception {
        JetStreamStorage storage = open(1);
        assertEquals(dev.broker.storage.StorageHealth.WRITABLE, storage.health());

        storage.close();

        assertFalse(storage.health().writable());
        assertEquals("storage is closed", storage.health().reason());
        assertEquals("event feed: storage is closed", failureOf(storage.feed().caughtUp()).getMessage());
        assertEquals("last issued id: storage is closed", failureOf(storage.events().lastIssuedId()).getMessage());
    }
}
