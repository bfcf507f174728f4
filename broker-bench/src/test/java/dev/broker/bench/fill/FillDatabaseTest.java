package dev.broker.bench.fill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.auth.PasswordHasher;
import dev.broker.storage.Event;
import dev.broker.storage.User;
import dev.broker.storage.rocksdb.RocksStorage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fill} at a tiny size: the users in their tenants with a hash of "password", the tenants filled in turn. */
class FillDatabaseTest {

    @TempDir
    Path dir;

    @Test
    void fillsUsersAndEventsTenantAfterTenant() throws Exception {
        Path db = dir.resolve("db");
        FillDatabase.run(new String[] {"--db", db.toString(), "--users", "10", "--events", "300", "--tenants", "3",
                "--names", "7", "--size", "50"}, new PrintStream(new ByteArrayOutputStream()));

        try (RocksStorage storage = RocksStorage.open(db)) {
            List<User> users = storage.users().list().join();
            assertEquals(10, users.size());
            User user4 = storage.users().find("user4").join().orElseThrow();
            assertEquals("tenant1", user4.tenant());
            assertTrue(new PasswordHasher(Runnable::run).verify("password", user4.passwordHash()));
            for (int t = 0; t < 3; t++) {
                List<Event> events = storage.events().after("tenant" + t, 0, 1000).join();
                assertEquals(100, events.size(), "tenant" + t);
                assertEquals(50, events.get(0).data().length);
                assertEquals(7, storage.events().latest("tenant" + t).join().size());
            }
            long lastOfTenant0 = storage.events().after("tenant0", 0, 1000).join().get(99).id();
            long firstOfTenant1 = storage.events().after("tenant1", 0, 1).join().get(0).id();
            assertTrue(lastOfTenant0 < firstOfTenant1, "tenant0 was filled before tenant1");
        }
    }
}
