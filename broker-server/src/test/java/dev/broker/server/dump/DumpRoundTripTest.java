package dev.broker.server.dump;

import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.DumpCommand;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export} and {@code import} through the command: a store moved through a dump keeps its users (they log in
 * with their old passwords), every tenant's events in order with their data and timestamps, and so the latest of
 * every name; a bad dump stops with the line's number and a non-zero status.
 */
@Timeout(120)
class DumpRoundTripTest {

    @TempDir
    Path dir;

    /** The outcome of one command run. */
    private record Run(int status, byte[] out, String err) {
        String outText() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    private static Run run(byte[] in, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = DumpCommand.run(args, Map.of(), new ByteArrayInputStream(in), out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    private static Run export(Path db) {
        return run(new byte[0], "export", "--db", db.toString());
    }

    private static Run importDump(Path db, String dump) {
        return run(dump.getBytes(StandardCharsets.UTF_8), "import", "--db", db.toString());
    }

    /** The dump without the events' ids, which an import assigns anew. */
    private static String withoutEventIds(String dump) {
        return dump.replaceAll("\\{\"type\":\"event\",\"id\":\\d+,", "{\"type\":\"event\",");
    }

    @Test
    void aStoreMovedThroughADumpKeepsItsUsersAndEvents() throws Exception {
        Path home = dir.resolve("old");
        User alice;
        User bob;
        List<SseClient.Event> aliceHistory;
        try (TestBroker broker = TestBroker.start(home)) {
            broker.createUser("alice", "alice-password", "shop");
            broker.createUser("bob", "bob-password", "bank \u00e9\u20ac");
            broker.createUser("mallory", "mallory-password", "shop");
            assertOkObject(broker.post("/revoke_user",
                    "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"username\":\"mallory\"}"));
            alice = new User("alice", "alice-password", "shop", broker.login("alice", "alice-password"));
            bob = new User("bob", "bob-password", "bank \u00e9\u20ac", broker.login("bob", "bob-password"));
            String[] data = {"{\"price\":1.50,\"tags\":[\"a\",null,true]}", "\"caf\\u00e9\"", "-0.0e+10", "{}",
                "[1,2,3]", "null"};
            for (int i = 0; i < 60; i++) {
                User user = i % 3 == 0 ? bob : alice;
                insert(broker, user, "n\u00e4me " + (i % 4), data[i % data.length]);
            }
            try (SseClient stream = subscribe(broker, alice, "", "Last-Event-ID", "0")) {
                aliceHistory = stream.next(40, PROMPTLY);
            }
        }

        Run exported = export(home.resolve("db"));
        assertEquals(0, exported.status(), exported.err());
        assertTrue(exported.err().contains("3 users, 60 events"), exported.err());
        String dump = exported.outText();
        assertTrue(dump.startsWith("{\"format\":\"broker-dump\",\"version\":1}\n"), dump);
        assertTrue(dump.endsWith("{\"type\":\"end\",\"users\":3,\"events\":60}\n"), dump);
        assertTrue(dump.contains("\"password_hash\":\"$argon2id$"), "the hashes travel");

        Path newDb = dir.resolve("new").resolve("db");
        Run imported = importDump(newDb, dump);
        assertEquals(0, imported.status(), imported.err());
        assertTrue(imported.err().contains("3 users, 60 events"), imported.err());

        // The new store exports the same dump: users, tenants, names, data and timestamps, in the same order.
        Run again = export(newDb);
        assertEquals(withoutEventIds(dump), withoutEventIds(again.outText()));

        try (TestBroker broker = TestBroker.start(dir.resolve("new"))) {
            User newAlice = new User("alice", "alice-password", "shop", broker.login("alice", "alice-password"));
            broker.login("bob", "bob-password");
            assertTrue(assertOkObject(broker.post("/get_user", "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN
                    + "\",\"username\":\"mallory\"}")).get("revoked").asBoolean());
            try (SseClient stream = subscribe(broker, newAlice, "", "Last-Event-ID", "0")) {
                List<SseClient.Event> history = stream.next(40, PROMPTLY);
                assertEquals(aliceHistory.stream().map(e -> e.name() + "=" + e.data()).toList(),
                        history.stream().map(e -> e.name() + "=" + e.data()).toList(), "the tenant's log, in order");
            }
            try (SseClient stream = subscribe(broker, newAlice, "")) {
                List<SseClient.Event> snapshot = stream.next(4, PROMPTLY);
                // The last event of each name, in the order of the history.
                java.util.LinkedHashMap<String, String> latest = new java.util.LinkedHashMap<>();
                for (SseClient.Event event : aliceHistory) {
                    latest.remove(event.name());
                    latest.put(event.name(), event.name() + "=" + event.data());
                }
                assertEquals(List.copyOf(latest.values()),
                        snapshot.stream().map(e -> e.name() + "=" + e.data()).toList(), "the latest of every name");
            }
        }
        assertTrue(bob.tenant().length() > 0);
    }

    @Test
    void aMalformedLineStopsTheImportWithItsNumberAndWithoutItsContent() {
        String dump = "{\"format\":\"broker-dump\",\"version\":1}\n"
                + "{\"type\":\"user\",\"id\":\"1\",\"username\":\"u\",\"tenant\":\"t\",\"password_hash\":\"h\","
                + "\"revoked\":false}\n"
                + "{\"type\":\"event\",\"id\":1,\"tenant\":\"secret-tenant\",\"name\":\"n\",\"timestamp\":\"soon\","
                + "\"data\":{}}\n"
                + "{\"type\":\"end\",\"users\":1,\"events\":1}\n";
        Run run = importDump(dir.resolve("db"), dump);
        assertEquals(1, run.status());
        assertTrue(run.err().contains("line 3: field 'timestamp' must be an integer"), run.err());
        assertFalse(run.err().contains("secret-tenant") || run.err().contains("soon"), run.err());

        Run broken = importDump(dir.resolve("db2"), "{\"format\":\"broker-dump\",\"version\":1}\n"
                + "{\"type\":\"event\",\"id\":1,\"tenant\":\"secret-tenant\",\"name\":\"n\",\"timestamp\":1,"
                + "\"data\":{\"unclosed\":}\n");
        assertEquals(1, broken.status());
        assertTrue(broken.err().contains("line 2: invalid JSON at column"), broken.err());
        assertFalse(broken.err().contains("secret-tenant") || broken.err().contains("unclosed"), broken.err());
    }

    @Test
    void refusesWhatIsNotADumpATruncatedDumpAndAStoreThatIsNotEmpty() throws Exception {
        Run notADump = importDump(dir.resolve("a"), "hello\n");
        assertEquals(1, notADump.status());
        assertTrue(notADump.err().contains("line 1: not a Broker dump"), notADump.err());

        Run truncated = importDump(dir.resolve("b"), "{\"format\":\"broker-dump\",\"version\":1}\n"
                + "{\"type\":\"event\",\"id\":1,\"tenant\":\"t\",\"name\":\"n\",\"timestamp\":1,\"data\":1}\n");
        assertEquals(1, truncated.status());
        assertTrue(truncated.err().contains("truncated"), truncated.err());

        // b now holds one event: a second import into it is refused.
        Run notEmpty = importDump(dir.resolve("b"), "{\"format\":\"broker-dump\",\"version\":1}\n"
                + "{\"type\":\"end\",\"users\":0,\"events\":0}\n");
        assertEquals(1, notEmpty.status());
        assertTrue(notEmpty.err().contains("not empty"), notEmpty.err());

        try (TestBroker broker = TestBroker.start(dir.resolve("running"))) {
            Run locked = export(dir.resolve("running").resolve("db"));
            assertEquals(1, locked.status());
            assertTrue(locked.err().contains("is a server running on it?"), locked.err());
            assertEquals(0, locked.out().length);
        }

        Run badFlag = run(new byte[0], "export", "--db");
        assertEquals(2, badFlag.status());
        assertTrue(Files.notExists(dir.resolve("db")));
    }
}
