package dev.broker.server.api;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static dev.broker.server.testing.HttpAssertions.fieldNames;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpJwt;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/** {@code POST /login}: an HS256 JWT with sub, tenant_name, iat and exp; 400 for a bad body; 401 otherwise. */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class LoginTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    private static String credentials(String username, String password) {
        return JSON.createObjectNode().put("username", username).put("password", password).toString();
    }

    @Test
    void issuesAnHs256JwtWithSubjectTenantAndLifetime() {
        broker = brokers.start();
        broker.createUser("alice", "s3cret", "acme");

        long before = System.currentTimeMillis() / 1000;
        HttpResult result = broker.post("/login", credentials("alice", "s3cret"));
        long after = (System.currentTimeMillis() + 999) / 1000;

        JsonNode body = assertOkObject(result);
        assertEquals(Set.of("jwt"), fieldNames(body));
        String jwt = body.get("jwt").asText();
        assertEquals("HS256", HttpJwt.header(jwt).get("alg").asText());
        JsonNode claims = HttpJwt.claims(jwt);
        assertEquals("alice", claims.get("sub").asText());
        assertEquals("acme", claims.get("tenant_name").asText());
        long iat = claims.get("iat").asLong();
        long exp = claims.get("exp").asLong();
        assertTrue(claims.get("iat").isIntegralNumber() && claims.get("exp").isIntegralNumber(),
                "iat and exp are NumericDates in whole seconds: " + claims);
        assertTrue(iat >= before && iat <= after, "iat " + iat + " not within [" + before + ", " + after + "]");
        assertEquals((long) broker.config().get(Flags.JWT_EXPIRY), exp - iat);
        assertTrue(HttpJwt.signatureMatches(jwt, TestBroker.JWT_SECRET),
                "any HS256 library must verify the token with the UTF-8 bytes of the configured secret");
    }

    @Test
    void tokenLifetimeFollowsTheConfiguredExpiry() {
        broker = brokers.start(c -> c.with(Flags.JWT_EXPIRY, 3600L));
        broker.createUser("alice", "s3cret", "acme");

        JsonNode claims = HttpJwt.claims(broker.login("alice", "s3cret"));

        assertEquals(3600, claims.get("exp").asLong() - claims.get("iat").asLong());
    }

    @Test
    void signsWithTheUtf8BytesOfANonAsciiSecret() {
        String secret = "sécret-ünïcode-€-of-more-than-32-bytes";
        broker = brokers.start(c -> c.with(Flags.JWT_SECRET, secret));
        broker.createUser("alice", "s3cret", "acme");

        String jwt = broker.login("alice", "s3cret");

        assertTrue(HttpJwt.signatureMatches(jwt, secret));
        String handMade = HttpJwt.hs256(HttpJwt.claimsFor("alice", "acme", 60), secret);
        assertEquals(200, broker.get("/verify", "Authorization", "Bearer " + handMade).status());
    }

    @Test
    void rejectsABadBodyWith400() {
        broker = brokers.start();
        List<Executable> checks = new ArrayList<>();
        List<String> bodies = new ArrayList<>(List.of("", "{", "nope", "[]", "\"alice\"", "1", "null",
                credentials("alice", "pw") + "x", "[" + credentials("alice", "pw") + "]",
                "{\"username\":\"alice\"}", "{\"password\":\"pw\"}", "{}",
                "{\"username\":1,\"password\":\"pw\"}", "{\"username\":\"alice\",\"password\":2}",
                "{\"username\":null,\"password\":\"pw\"}", "{\"username\":\"alice\",\"password\":[\"pw\"]}",
                "{\"username\":\"alice\",\"password\":{\"p\":1}}"));
        for (String body : bodies) {
            checks.add(() -> assertError(400, broker.post("/login", body), body));
        }
        assertAll(checks);
    }

    @Test
    void rejectsAnUnknownUserWith401() {
        broker = brokers.start();
        broker.createUser("alice", "s3cret", "acme");

        assertError(401, broker.post("/login", credentials("mallory", "s3cret")));
    }

    @Test
    void rejectsAWrongPasswordWith401() {
        broker = brokers.start();
        broker.createUser("alice", "s3cret", "acme");

        assertError(401, broker.post("/login", credentials("alice", "S3cret")));
        assertError(401, broker.post("/login", credentials("alice", "")));
        broker.login("alice", "s3cret");
    }

    @Test
    void rejectsARevokedUserWith401EvenWithTheRightPassword() {
        broker = brokers.start();
        broker.createUser("alice", "s3cret", "acme");
        ObjectNode revoke = JSON.createObjectNode().put("admin_token", TestBroker.ADMIN_TOKEN).put("username", "alice");
        assertOkObject(broker.post("/revoke_user", revoke.toString()));

        assertError(401, broker.post("/login", credentials("alice", "s3cret")));

        assertOkObject(broker.post("/unrevoke_user", revoke.toString()));
        broker.login("alice", "s3cret");
    }
}
