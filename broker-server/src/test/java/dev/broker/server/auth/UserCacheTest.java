package dev.broker.server.auth;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.TestBroker;
import dev.broker.storage.User;
import dev.broker.storage.rocksdb.RocksStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users read through the bounded cache on a real server: a cache of one user serves many users (each request
 * missing the cache reads the store), a server starts with users that are only in the store, and revocation is in
 * force for the very next request whether or not the user was cached.
 */
@Timeout(120)
class UserCacheTest {

    @TempDir
    Path dir;

    private static final String HASH = new PasswordHasher(Runnable::run).hash("pw");

    /** Users stored directly, as a restored or filled database holds them: no server has seen them yet. */
    private void storeUsers(List<User> users) {
        try (RocksStorage storage = RocksStorage.open(dir.resolve("db"))) {
            CompletableFuture.allOf(users.stream().map(u -> storage.users().create(u))
                    .toArray(CompletableFuture[]::new)).join();
        }
    }

    private static HttpResult verify(TestBroker broker, String jwt) {
        return broker.get("/verify", "Authorization", "Bearer " + jwt);
    }

    @Test
    void authenticatesUsersThatAreOnlyInTheStoreThroughACacheOfOne() {
        List<User> users = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            users.add(new User("id" + i, "user" + i, "tenant" + i, HASH, false));
        }
        storeUsers(users);

        try (TestBroker broker = TestBroker.start(dir, c -> c.with(Flags.USER_CACHE, 1))) {
            List<String> jwts = new ArrayList<>();
            for (User user : users) {
                jwts.add(broker.login(user.username(), "pw"));
            }
            // Round after round, every user but the last one used has left the cache of one.
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < users.size(); i++) {
                    assertEquals("user" + i, assertOkObject(verify(broker, jwts.get(i))).get("username").asText());
                    assertEquals(200, broker.insert(jwts.get(i), "e", "{\"round\":" + round + "}").status());
                }
            }
            String basic = "Basic " + java.util.Base64.getEncoder().encodeToString("user3:pw".getBytes());
            assertEquals("tenant3", assertOkObject(broker.get("/verify", "Authorization", basic))
                    .get("tenant_name").asText());
            assertEquals("unknown user", assertError(401, verify(broker, new JwtTokens(TestBroker.JWT_SECRET, 60)
                    .issue("nobody", "tenant0"))));
            assertError(401, broker.post("/login", "{\"username\":\"nobody\",\"password\":\"pw\"}"));
        }
    }

    @Test
    void revocationIsInForceForTheNextRequestCachedOrNot() {
        try (TestBroker broker = TestBroker.start(dir, c -> c.with(Flags.USER_CACHE, 1))) {
            broker.createUser("alice", "pw", "acme");
            broker.createUser("bob", "pw", "acme");
            String alice = broker.login("alice", "pw");
            String bob = broker.login("bob", "pw");
            String admin = "\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"";

            for (String user : List.of("alice", "bob")) {
                String jwt = user.equals("alice") ? alice : bob;
                // Bring the user into the cache (or, for the other one, push it out): either way the revoke holds.
                assertOkObject(verify(broker, jwt));
                assertOkObject(broker.post("/revoke_user", "{" + admin + ",\"username\":\"" + user + "\"}"));
                assertEquals("user is revoked", assertError(401, verify(broker, jwt)));
                assertEquals("user is revoked", assertError(401,
                        broker.post("/login", "{\"username\":\"" + user + "\",\"password\":\"pw\"}")));
                assertOkObject(broker.post("/unrevoke_user", "{" + admin + ",\"username\":\"" + user + "\"}"));
                assertOkObject(verify(broker, jwt));
            }
        }
    }

    @Test
    void aRestartedServerFindsEveryUserAndAFreshNameIsNotTakenBecauseOfTheCache() {
        try (TestBroker broker = TestBroker.start(dir, c -> c.with(Flags.USER_CACHE, 2))) {
            String jwt;
            broker.createUser("alice", "pw", "acme");
            jwt = broker.login("alice", "pw");
            // A lookup of a name not yet taken (cached as unknown for a while) does not stop its creation.
            assertError(401, broker.post("/login", "{\"username\":\"carol\",\"password\":\"pw\"}"));
            broker.createUser("carol", "pw", "acme");
            assertTrue(broker.login("carol", "pw").length() > 0);
            assertEquals("username already taken", assertError(409, broker.post("/create_user",
                    "{\"username\":\"carol\",\"password\":\"x\",\"tenant_name\":\"t\",\"admin_token\":\""
                            + TestBroker.ADMIN_TOKEN + "\"}")));

            broker.restart();

            assertEquals("username already taken", assertError(409, broker.post("/create_user",
                    "{\"username\":\"alice\",\"password\":\"x\",\"tenant_name\":\"t\",\"admin_token\":\""
                            + TestBroker.ADMIN_TOKEN + "\"}")), "a name taken by a user not in the (new) cache");
            assertEquals("alice", assertOkObject(verify(broker, jwt)).get("username").asText());
            assertTrue(broker.login("carol", "pw").length() > 0);
        }
    }
}
