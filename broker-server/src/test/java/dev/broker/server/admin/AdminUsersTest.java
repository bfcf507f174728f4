package dev.broker.server.admin;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static dev.broker.server.testing.HttpAssertions.fieldNames;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/**
 * The admin-token endpoints besides create_user: {@code revoke_user}, {@code unrevoke_user}, {@code list_users},
 * {@code get_user}, and what revocation does to logins and tokens.
 */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class AdminUsersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> USER_FIELDS = Set.of("id", "username", "tenant_name", "revoked", "password");

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = brokers.start();
    }

    private static ObjectNode admin() {
        return JSON.createObjectNode().put("admin_token", TestBroker.ADMIN_TOKEN);
    }

    private static String forUser(String username) {
        return admin().put("username", username).toString();
    }

    private HttpResult verify(String jwt) {
        return broker.get("/verify", "Authorization", "Bearer " + jwt);
    }

    // --- revoke_user / unrevoke_user ------------------------------------------------------------------------

    @Test
    void revokeAndUnrevokeAnswerAnEmptyObjectAndAreIdempotent() {
        broker.createUser("alice", "pw", "acme");

        for (String path : List.of("/revoke_user", "/revoke_user", "/unrevoke_user", "/unrevoke_user")) {
            JsonNode body = assertOkObject(broker.post(path, forUser("alice")));
            assertEquals(0, body.size(), path + " answers {}: " + body);
        }
        // Unrevoking a user that was never revoked is fine too.
        broker.createUser("bob", "pw", "acme");
        assertOkObject(broker.post("/unrevoke_user", forUser("bob")));
        assertFalse(assertOkObject(broker.post("/get_user", forUser("bob"))).get("revoked").asBoolean());
    }

    @Test
    void revokeAndUnrevokeRejectABadBodyWith400() {
        List<Executable> checks = new ArrayList<>();
        List<String> bodies = List.of("", "{", "[]", "\"alice\"", "null",
                "{\"username\":\"alice\"}",
                "{\"admin_token\":1,\"username\":\"alice\"}",
                "{\"admin_token\":null,\"username\":\"alice\"}",
                "{\"admin_token\":[\"" + TestBroker.ADMIN_TOKEN + "\"],\"username\":\"alice\"}",
                "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"}",
                "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"username\":5}",
                forUser("alice") + "x");
        for (String path : List.of("/revoke_user", "/unrevoke_user")) {
            for (String body : bodies) {
                checks.add(() -> assertError(400, broker.post(path, body), path + " " + body));
            }
        }
        assertAll(checks);
    }

    @Test
    void revokeAndUnrevokeRejectAWrongAdminTokenWith401() {
        broker.createUser("alice", "pw", "acme");
        String wrong = JSON.createObjectNode().put("admin_token", "nope").put("username", "alice").toString();
        String empty = JSON.createObjectNode().put("admin_token", "").put("username", "alice").toString();

        assertError(401, broker.post("/revoke_user", wrong));
        assertError(401, broker.post("/revoke_user", empty));
        assertFalse(assertOkObject(broker.post("/get_user", forUser("alice"))).get("revoked").asBoolean(),
                "a refused revoke changes nothing");
        assertOkObject(broker.post("/revoke_user", forUser("alice")));
        assertError(401, broker.post("/unrevoke_user", wrong));
        assertTrue(assertOkObject(broker.post("/get_user", forUser("alice"))).get("revoked").asBoolean());
    }

    @Test
    void revokeAndUnrevokeAnswer404ForAnUnknownUsername() {
        broker.createUser("alice", "pw", "acme");

        assertError(404, broker.post("/revoke_user", forUser("mallory")));
        assertError(404, broker.post("/unrevoke_user", forUser("mallory")));
        assertError(404, broker.post("/revoke_user", forUser("Alice")), "usernames are case-sensitive");
    }

    @Test
    void revokedUserCannotLogInAndTheirTokenStopsWorkingAtOnce() {
        broker.createUser("alice", "pw", "acme");
        broker.createUser("bob", "pw", "acme");
        String alice = broker.login("alice", "pw");
        String bob = broker.login("bob", "pw");
        assertOkObject(verify(alice));

        assertOkObject(broker.post("/revoke_user", forUser("alice")));

        assertError(401, verify(alice));
        assertError(401, broker.insert(alice, "e", "1"));
        assertError(401, broker.post("/login", JSON.createObjectNode().put("username", "alice").put("password", "pw").toString()));
        // Only alice is affected.
        assertOkObject(verify(bob));
        assertOkObject(broker.insert(bob, "e", "1"));
    }

    @Test
    void unrevokeRestoresAnUnexpiredOldToken() {
        broker.createUser("alice", "pw", "acme");
        String before = broker.login("alice", "pw");
        assertOkObject(broker.post("/revoke_user", forUser("alice")));
        assertError(401, verify(before));

        assertOkObject(broker.post("/unrevoke_user", forUser("alice")));

        JsonNode who = assertOkObject(verify(before));
        assertEquals("alice", who.get("username").asText());
        assertOkObject(broker.insert(before, "back", "true"));
        broker.login("alice", "pw");
    }

    // --- list_users ----------------------------------------------------------------------------------------

    @Test
    void listUsersShowsEveryUserWithAMaskedPassword() {
        String aliceId = broker.createUser("alice", "alice-password", "acme");
        String bobId = broker.createUser("bob", "bob-password", "globex");
        assertOkObject(broker.post("/revoke_user", forUser("bob")));

        HttpResult result = broker.post("/list_users", admin().toString());

        assertEquals(200, result.status(), result::body);
        JsonNode users = result.json();
        assertTrue(users.isArray(), "an array: " + result.body());
        assertEquals(2, users.size(), result.body());
        Map<String, JsonNode> byName = new HashMap<>();
        for (JsonNode user : users) {
            assertEquals(USER_FIELDS, fieldNames(user), user.toString());
            assertEquals("***", user.get("password").asText());
            assertTrue(user.get("revoked").isBoolean(), user.toString());
            byName.put(user.get("username").asText(), user);
        }
        assertEquals(aliceId, byName.get("alice").get("id").asText());
        assertEquals("acme", byName.get("alice").get("tenant_name").asText());
        assertFalse(byName.get("alice").get("revoked").asBoolean());
        assertEquals(bobId, byName.get("bob").get("id").asText());
        assertEquals("globex", byName.get("bob").get("tenant_name").asText());
        assertTrue(byName.get("bob").get("revoked").asBoolean());
        assertNoSecretsIn(result.body());
    }

    @Test
    void listUsersOfAnEmptyServerIsAnEmptyArray() {
        HttpResult result = broker.post("/list_users", admin().toString());

        assertEquals(200, result.status());
        assertTrue(result.json().isArray() && result.json().isEmpty(), result.body());
    }

    @Test
    void listUsersRejectsABadBodyWith400AndAWrongTokenWith401() {
        List<Executable> checks = new ArrayList<>();
        for (String body : List.of("", "{", "[]", "{}", "{\"admin_token\":1}", "{\"admin_token\":null}",
                admin() + "]")) {
            checks.add(() -> assertError(400, broker.post("/list_users", body), body));
        }
        checks.add(() -> assertError(401, broker.post("/list_users", "{\"admin_token\":\"wrong\"}")));
        checks.add(() -> assertError(401, broker.post("/list_users", "{\"admin_token\":\"\"}")));
        assertAll(checks);
    }

    // --- get_user ------------------------------------------------------------------------------------------

    @Test
    void getUserReturnsOneUserWithAMaskedPassword() {
        String id = broker.createUser("alice", "alice-password", "acme");

        HttpResult result = broker.post("/get_user", forUser("alice"));

        JsonNode user = assertOkObject(result);
        assertEquals(USER_FIELDS, fieldNames(user));
        assertEquals(id, user.get("id").asText());
        assertEquals("alice", user.get("username").asText());
        assertEquals("acme", user.get("tenant_name").asText());
        assertFalse(user.get("revoked").asBoolean());
        assertEquals("***", user.get("password").asText());
        assertNoSecretsIn(result.body());
    }

    @Test
    void getUserRejectsABadBody400AWrongToken401AndAnUnknownUser404() {
        broker.createUser("alice", "pw", "acme");
        List<Executable> checks = new ArrayList<>();
        for (String body : List.of("", "{", "[]", "{}", "{\"username\":\"alice\"}",
                "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"}",
                "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"username\":true}",
                "{\"admin_token\":7,\"username\":\"alice\"}")) {
            checks.add(() -> assertError(400, broker.post("/get_user", body), body));
        }
        checks.add(() -> assertError(401, broker.post("/get_user",
                JSON.createObjectNode().put("admin_token", "wrong").put("username", "alice").toString())));
        checks.add(() -> assertError(404, broker.post("/get_user", forUser("mallory"))));
        assertAll(checks);
    }

    // --- durability ----------------------------------------------------------------------------------------

    @Test
    void usersAndTheirRevocationSurviveARestart() {
        String aliceId = broker.createUser("alice", "pw", "acme");
        broker.createUser("bob", "pw", "acme");
        String bobToken = broker.login("bob", "pw");
        assertOkObject(broker.post("/revoke_user", forUser("bob")));

        broker.restart();

        assertEquals(aliceId, assertOkObject(broker.post("/get_user", forUser("alice"))).get("id").asText());
        broker.login("alice", "pw");
        assertTrue(assertOkObject(broker.post("/get_user", forUser("bob"))).get("revoked").asBoolean());
        assertError(401, verify(bobToken), "a revocation is durable");
        assertError(409, broker.post("/create_user", JSON.createObjectNode().put("username", "alice")
                .put("password", "x").put("admin_token", TestBroker.ADMIN_TOKEN).put("tenant_name", "t").toString()));
    }

    private static void assertNoSecretsIn(String body) {
        assertFalse(body.contains("argon2"), "no password hash in " + body);
        assertFalse(body.contains("$"), "no PHC-encoded anything in " + body);
        assertFalse(body.contains("-password"), "no password in " + body);
    }
}
