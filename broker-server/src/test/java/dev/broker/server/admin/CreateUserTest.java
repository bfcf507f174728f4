package dev.broker.server.admin;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static dev.broker.server.testing.HttpAssertions.fieldNames;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.TestBroker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /create_user}: 200 with a UUID, 400 for a bad body, 401 for a wrong admin token, 409 for a taken name. */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class CreateUserTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start(dir);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static ObjectNode validBody(String username) {
        return JSON.createObjectNode()
                .put("username", username)
                .put("password", "pw-" + username)
                .put("admin_token", TestBroker.ADMIN_TOKEN)
                .put("tenant_name", "acme");
    }

    @Test
    void returnsARandomUuidForANewUser() {
        HttpResult first = broker.post("/create_user", validBody("alice").toString());
        JsonNode body = assertOkObject(first);
        assertEquals(Set.of("id"), fieldNames(body));
        UUID alice = UUID.fromString(body.get("id").asText());
        assertEquals(body.get("id").asText(), alice.toString(), "id must be a canonical UUID string");

        UUID bob = UUID.fromString(broker.createUser("bob", "pw", "acme"));
        assertNotEquals(alice, bob);
        assertEquals("application/json", first.header("Content-Type"));
    }

    @Test
    void createdUserCanLogInAndBelongsToItsTenant() {
        String id = broker.createUser("alice", "s3cret", "acme");
        String jwt = broker.login("alice", "s3cret");

        JsonNode who = assertOkObject(broker.get("/verify", "Authorization", "Bearer " + jwt));
        assertEquals("alice", who.get("username").asText());
        assertEquals("acme", who.get("tenant_name").asText());

        JsonNode stored = assertOkObject(broker.post("/get_user",
                JSON.createObjectNode().put("admin_token", TestBroker.ADMIN_TOKEN).put("username", "alice").toString()));
        assertEquals(id, stored.get("id").asText());
    }

    @Test
    void rejectsABadBodyWith400() {
        List<Executable> checks = new ArrayList<>();
        Function<String, Executable> rejects = body -> () -> assertError(400, broker.post("/create_user", body), body);

        for (String body : List.of("", "{", "not json", "[]", "\"alice\"", "42", "null", "true",
                validBody("alice") + " trailing", validBody("alice") + "{}", "[" + validBody("alice") + "]")) {
            checks.add(rejects.apply(body));
        }
        for (String field : List.of("username", "password", "admin_token", "tenant_name")) {
            ObjectNode missing = validBody("alice");
            missing.remove(field);
            checks.add(rejects.apply(missing.toString()));
            checks.add(rejects.apply(validBody("alice").put(field, "").toString()));
            checks.add(rejects.apply(validBody("alice").put(field, 7).toString()));
            checks.add(rejects.apply(validBody("alice").putNull(field).toString()));
            checks.add(rejects.apply(validBody("alice").put(field, true).toString()));
            ObjectNode nested = validBody("alice");
            nested.putObject(field).put("value", "x");
            checks.add(rejects.apply(nested.toString()));
            ObjectNode array = validBody("alice");
            array.putArray(field).add("x");
            checks.add(rejects.apply(array.toString()));
        }
        assertAll(checks);

        // None of the refused requests created anything: the name is still free.
        assertOkObject(broker.post("/create_user", validBody("alice").toString()));
    }

    @Test
    void rejectsAWrongAdminTokenWith401AndCreatesNothing() {
        assertError(401, broker.post("/create_user", validBody("alice").put("admin_token", "wrong").toString()));
        assertError(401, broker.post("/create_user",
                validBody("alice").put("admin_token", TestBroker.ADMIN_TOKEN + "x").toString()));
        assertError(401, broker.post("/create_user", validBody("alice").put("admin_token", "letmein").toString()),
                "the built-in default token must not work once another is configured");

        assertError(404, broker.post("/get_user",
                JSON.createObjectNode().put("admin_token", TestBroker.ADMIN_TOKEN).put("username", "alice").toString()));
    }

    @Test
    void rejectsATakenUsernameWith409() {
        broker.createUser("alice", "pw", "acme");

        String reason = assertError(409, broker.post("/create_user", validBody("alice").toString()));
        assertNotEquals("", reason);
        // The original account is untouched: its password still works and the duplicate's does not.
        broker.login("alice", "pw");
        assertError(401, broker.post("/login",
                JSON.createObjectNode().put("username", "alice").put("password", "pw-alice").toString()));
    }

    @Test
    void rejectsAUsernameTakenInAnotherTenantWith409() {
        broker.createUser("alice", "pw", "acme");

        assertError(409, broker.post("/create_user", validBody("alice").put("tenant_name", "globex").toString()));
        JsonNode who = assertOkObject(broker.get("/verify", "Authorization", "Bearer " + broker.login("alice", "pw")));
        assertEquals("acme", who.get("tenant_name").asText());
    }

    @Test
    void concurrentCreatesOfOneUsernameGiveOne200AndOne409() {
        String body = validBody("alice").toString();
        List<CompletableFuture<HttpResult>> calls = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> broker.post("/create_user", body)));
        }
        List<Integer> statuses = calls.stream().map(CompletableFuture::join).map(HttpResult::status).sorted().toList();

        assertEquals(List.of(200, 409), statuses);
        JsonNode users = broker.post("/list_users",
                JSON.createObjectNode().put("admin_token", TestBroker.ADMIN_TOKEN).toString()).json();
        assertEquals(1, users.size(), users::toString);
    }

    @Test
    void acceptsNonAsciiNamesAndReturnsThemIntact() {
        broker.createUser("zoë", "pässwörd", "ünïcode-tenant");

        JsonNode who = assertOkObject(broker.get("/verify", "Authorization", "Bearer " + broker.login("zoë", "pässwörd")));
        assertEquals("zoë", who.get("username").asText());
        assertEquals("ünïcode-tenant", who.get("tenant_name").asText());
    }

    @Test
    void storesThePasswordOnlyAsAnArgon2idHash() throws IOException {
        String username = "user-" + UUID.randomUUID();
        String password = "plain-password-" + UUID.randomUUID();
        broker.createUser(username, password, "acme");
        broker.close(); // everything on disk, nothing held open

        byte[] stored = allBytesUnder(dir);

        assertTrue(contains(stored, username), "the scan sees the stored user at all");
        assertTrue(contains(stored, "$argon2id$"), "a PHC-encoded Argon2id hash is stored");
        assertFalse(contains(stored, password), "the password itself is never stored");
    }

    private static byte[] allBytesUnder(Path root) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                all.write(Files.readAllBytes(file));
            }
        }
        return all.toByteArray();
    }

    private static boolean contains(byte[] haystack, String needle) {
        byte[] n = needle.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + n.length <= haystack.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (haystack[i + j] != n[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
