package dev.broker.server.durability;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.frame;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A graceful restart on the same database keeps users, revocations, events and the id sequence. */
@Timeout(60)
class RestartDurabilityTest {

    @TempDir
    Path dir;

    @Test
    void restartKeepsUsersEventsAndTheIdSequence() {
        try (TestBroker broker = TestBroker.start(dir)) {
            User alice = newUser(broker, "acme");
            User bob = newUser(broker, "acme");
            User carol = newUser(broker, "globex");
            StringBuilder acmeLog = new StringBuilder();
            StringBuilder snapshot = new StringBuilder();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String name = "e" + (i % 3);
                String data = "{\"i\":" + i + ",\"s\":\"\\u00e9\"}";
                long id = insert(broker, i % 2 == 0 ? alice : bob, name, data);
                ids.add(id);
                acmeLog.append(frame(id, name, "{\"i\":" + i + ",\"s\":\"\\u00E9\"}"));
                if (i >= 17) {
                    snapshot.append(frame(id, name, "{\"i\":" + i + ",\"s\":\"\\u00E9\"}"));
                }
                insert(broker, carol, "other", Integer.toString(i));
            }
            HttpResult revoked = broker.post("/revoke_user",
                    "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"username\":\"" + bob.username() + "\"}");
            assertEquals(200, revoked.status(), revoked.body());

            broker.restart();

            // Users: the old password logs in, the old token still verifies, and the revocation held.
            String jwt = broker.login(alice.username(), alice.password());
            assertEquals(200, broker.get("/verify", "Authorization", "Bearer " + jwt).status());
            assertEquals(200, broker.get("/verify", alice.bearer()).status());
            assertEquals(401, broker.get("/verify", bob.bearer()).status());
            assertEquals(401, broker.post("/login",
                    "{\"username\":\"" + bob.username() + "\",\"password\":\"" + bob.password() + "\"}").status());

            // Events: the whole log replays from 0, byte for byte, and the snapshot is the same as before.
            try (SseClient replay = subscribe(broker, alice, "", "Last-Event-ID", "0");
                 SseClient latest = subscribe(broker, alice, "")) {
                replay.next(ids.size(), PROMPTLY);
                assertEquals(acmeLog.toString(), replay.rawBodyText());
                latest.next(3, PROMPTLY);
                assertEquals(snapshot.toString(), latest.rawBodyText());

                // New ids continue above the old ones, and reach the streams opened after the restart.
                long next = insert(broker, alice, "after", "true");
                assertTrue(next > ids.get(ids.size() - 1), next + " must be above " + ids.get(ids.size() - 1));
                assertEquals(Long.toString(next), replay.next(PROMPTLY).id());
                assertEquals(Long.toString(next), latest.next(PROMPTLY).id());
            }
        }
    }
}
