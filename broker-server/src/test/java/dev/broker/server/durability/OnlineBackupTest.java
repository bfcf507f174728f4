package dev.broker.server.durability;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /backup} on a serving server: a server started on a copy of the backup has every event acknowledged
 * before the request, the latest of every name and the users; a failed backup leaves nothing that looks like one.
 */
@Timeout(120)
class OnlineBackupTest {

    private static final String NAMES = "abcdefg";

    @TempDir
    Path dir;

    private final List<TestBroker> brokers = new ArrayList<>();

    @AfterEach
    void stop() {
        brokers.forEach(TestBroker::close);
    }

    private TestBroker start(Path home, Path db) {
        TestBroker broker = TestBroker.start(home, c -> c.with(Flags.DB, db).with(Flags.BACKUP_DIR,
                home.resolve("backups")));
        brokers.add(broker);
        return broker;
    }

    private static HttpResult backup(TestBroker broker) {
        return broker.post("/backup", "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"}");
    }

    /** One acknowledged insert: its id and name. */
    private record Acked(long id, String name) {
    }

    @Test
    void aServerOnACopyOfTheBackupHasEverythingAcknowledgedBeforeIt() throws Exception {
        TestBroker broker = start(dir, dir.resolve("db"));
        User user = newUser(broker, "shop");
        List<Acked> acked = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean inserting = new AtomicBoolean(true);
        CountDownLatch enoughBefore = new CountDownLatch(30);
        Thread inserter = new Thread(() -> {
            for (int i = 0; inserting.get(); i++) {
                String name = String.valueOf(NAMES.charAt(i % NAMES.length()));
                acked.add(new Acked(insert(broker, user, name, Integer.toString(i)), name));
                enoughBefore.countDown();
            }
        }, "inserter");
        inserter.start();
        assertTrue(enoughBefore.await(60, TimeUnit.SECONDS));

        List<Acked> before = List.copyOf(acked);
        HttpResult result = backup(broker);
        int countAtAnswer = acked.size();
        // A few more after the answer: ids the backup cannot know.
        while (acked.size() < countAtAnswer + 5 && inserter.isAlive()) {
            Thread.sleep(5);
        }
        inserting.set(false);
        inserter.join();

        Path backup = Path.of(assertOkObject(result).get("path").asText());
        assertTrue(backup.startsWith(dir.resolve("backups").toAbsolutePath()), backup.toString());
        assertTrue(backup.getFileName().toString().matches("broker-\\d{8}T\\d{6}\\.\\d{3}Z"), backup.toString());
        Path copy = dir.resolve("restored");
        copyTree(backup, copy);
        Path restoredHome = Files.createDirectories(dir.resolve("restored-home"));
        TestBroker restored = start(restoredHome, copy);

        // The user, with the same password hash.
        User again = new User(user.username(), user.password(), user.tenant(),
                restored.login(user.username(), user.password()));
        // Every event acknowledged before the backup request, in order.
        Set<Long> replayed = new HashSet<>();
        try (SseClient stream = subscribe(restored, again, "", "Last-Event-ID", "0")) {
            long lastBefore = before.get(before.size() - 1).id();
            for (SseClient.Event event : stream.nextUntilId(lastBefore, PROMPTLY)) {
                replayed.add(event.idAsLong());
            }
        }
        for (Acked event : before) {
            assertTrue(replayed.contains(event.id()), "event " + event.id() + " is in the backup");
        }
        // The latest of every name: at least as new as the last acknowledged before the backup.
        Map<String, Long> lastBeforeByName = new HashMap<>();
        before.forEach(event -> lastBeforeByName.put(event.name(), event.id()));
        try (SseClient stream = subscribe(restored, again, "")) {
            for (SseClient.Event event : stream.next(NAMES.length(), PROMPTLY)) {
                assertTrue(event.idAsLong() >= lastBeforeByName.get(event.name()), event.toString());
            }
        }
        // A Last-Event-ID the restored server never issued (from after the backup) falls back to the snapshot.
        long afterBackup = acked.get(acked.size() - 1).id();
        try (SseClient stream = subscribe(restored, again, "", "Last-Event-ID", Long.toString(afterBackup))) {
            List<SseClient.Event> snapshot = stream.next(NAMES.length(), PROMPTLY);
            assertEquals(NAMES.length(), snapshot.stream().map(SseClient.Event::name).distinct().count());
        }
    }

    @Test
    void refusesAWrongTokenAndABadBody() {
        TestBroker broker = start(dir, dir.resolve("db"));
        assertError(401, broker.post("/backup", "{\"admin_token\":\"wrong\"}"));
        assertError(400, broker.post("/backup", "{}"));
        assertError(400, broker.post("/backup", "not json"));
        assertFalse(Files.exists(dir.resolve("backups")), "nothing written");
    }

    @Test
    void aBackupThatCannotBeWrittenSaysWhyAndLeavesNoBackup() throws IOException {
        Path blocked = Files.writeString(dir.resolve("a-file"), "in the way");
        TestBroker broker = TestBroker.start(dir, c -> c.with(Flags.BACKUP_DIR, blocked.resolve("backups")));
        brokers.add(broker);

        String error = assertError(500, backup(broker));
        assertTrue(error.startsWith("backup: cannot create"), error);
        assertEquals(200, broker.get("/healthz").status(), "the server serves on");
    }

    @Test
    void twoBackupsInARowGetTwoDirectories() throws IOException {
        TestBroker broker = start(dir, dir.resolve("db"));
        String first = assertOkObject(backup(broker)).get("path").asText();
        String second = assertOkObject(backup(broker)).get("path").asText();
        assertFalse(first.equals(second));
        try (Stream<Path> entries = Files.list(dir.resolve("backups"))) {
            assertEquals(2, entries.count(), "only the two backups, no partial directory");
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(from.relativize(file).toString()));
            }
        }
    }
}
