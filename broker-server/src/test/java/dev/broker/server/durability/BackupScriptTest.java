package dev.broker.server.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.TestBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code conf/broker-backup.sh}, as broker-backup.service runs it: one backup, then only the newest KEEP kept. */
@Timeout(60)
class BackupScriptTest {

    @TempDir
    Path dir;

    /** The script in the project's conf directory (Maven runs the tests in the module's directory). */
    private static Path script() {
        Path script = Path.of(System.getProperty("basedir", ".")).resolve("../conf/broker-backup.sh").normalize();
        assertTrue(Files.isRegularFile(script), "missing " + script);
        return script;
    }

    private record Outcome(int status, String output) {
    }

    private static Outcome runScript(String token, String url, Path backups, String keep) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("sh", script().toString()).redirectErrorStream(true);
        builder.environment().put("BROKER_ADMIN_TOKEN", token);
        builder.environment().put("BACKUP_URL", url);
        builder.environment().put("BACKUP_DIR", backups.toString());
        builder.environment().put("KEEP", keep);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        return new Outcome(process.exitValue(), output);
    }

    private static List<String> names(Path backups) throws IOException {
        try (Stream<Path> entries = Files.list(backups)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void backsUpAndKeepsTheNewest() throws Exception {
        Path backups = dir.resolve("backups");
        try (TestBroker broker = TestBroker.start(dir, c -> c.with(Flags.BACKUP_DIR, backups))) {
            String url = broker.uri("/backup").toString();
            for (String old : List.of("broker-20250101T000000.000Z", "broker-20250102T000000.000Z",
                    "broker-20250103T000000.000Z", ".broker-20250104T000000.000Z.partial")) {
                Files.createDirectories(backups.resolve(old));
            }

            Outcome wrong = runScript("not-the-token", url, backups, "2");
            assertNotEquals(0, wrong.status(), wrong.output());
            assertTrue(wrong.output().contains("wrong admin_token"), wrong.output());
            assertEquals(4, names(backups).size(), "a failed backup removes nothing");

            Outcome done = runScript(TestBroker.ADMIN_TOKEN, url, backups, "2");
            assertEquals(0, done.status(), done.output());
            assertTrue(done.output().contains("\"path\":"), done.output());
            List<String> left = names(backups);
            assertEquals(3, left.size(), left.toString());
            assertEquals(".broker-20250104T000000.000Z.partial", left.get(0), "hidden: left alone");
            assertEquals("broker-20250103T000000.000Z", left.get(1));
            assertTrue(left.get(2).startsWith("broker-20"), "the new backup: " + left);
            assertNotEquals("broker-20250103T000000.000Z", left.get(2));

            assertEquals(2, runScript(TestBroker.ADMIN_TOKEN, url, backups, "0").status());
        }
    }
}
