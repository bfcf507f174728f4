package dev.broker.server.auth;

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
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/**
 * {@code GET /verify}, and with it how every authenticated endpoint judges a credential: Bearer JWTs (signature,
 * algorithm, expiry, user) and HTTP Basic (password, its cache, revocation).
 */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class VerifyTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    private TestBroker startWithAlice() {
        broker = brokers.start();
        broker.createUser("alice", "s3cret", "acme");
        return broker;
    }

    /** A valid token for alice, signed here (no password hashing needed, unlike login). */
    private static String aliceToken() {
        return HttpJwt.hs256(HttpJwt.claimsFor("alice", "acme", 3600), TestBroker.JWT_SECRET);
    }

    private HttpResult verify(String authorization) {
        return authorization == null ? broker.get("/verify") : broker.get("/verify", "Authorization", authorization);
    }

    private static String basic(String username, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private void setRevoked(String username, boolean revoked) {
        String body = JSON.createObjectNode().put("admin_token", TestBroker.ADMIN_TOKEN).put("username", username).toString();
        assertOkObject(broker.post(revoked ? "/revoke_user" : "/unrevoke_user", body));
    }

    private static void assertAlice(HttpResult result) {
        JsonNode body = assertOkObject(result);
        assertEquals(Set.of("username", "tenant_name"), fieldNames(body));
        assertEquals("alice", body.get("username").asText());
        assertEquals("acme", body.get("tenant_name").asText());
    }

    // --- what is accepted ----------------------------------------------------------------------------------

    @Test
    void acceptsABearerTokenFromLogin() {
        startWithAlice();

        assertAlice(verify("Bearer " + broker.login("alice", "s3cret")));
    }

    @Test
    void acceptsBasicCredentials() {
        startWithAlice();

        assertAlice(verify(basic("alice", "s3cret")));
        assertAlice(verify(basic("alice", "s3cret"))); // again, now from the cache
    }

    @Test
    void acceptsATokenSignedByAnyHs256LibraryWithTheSameSecret() {
        startWithAlice();
        String handMade = HttpJwt.hs256(HttpJwt.claimsFor("alice", "acme", 60), TestBroker.JWT_SECRET);

        assertAlice(verify("Bearer " + handMade));
    }

    @Test
    void acceptsTheSchemeNameInAnyCase() {
        startWithAlice();
        String jwt = aliceToken();

        assertAlice(verify("bearer " + jwt));
        assertAlice(verify("BEARER " + jwt));
        assertAlice(verify(basic("alice", "s3cret").replace("Basic", "basic")));
    }

    @Test
    void acceptsBasicCredentialsWithNonAsciiNamesAndColonsInThePassword() {
        broker = brokers.start();
        broker.createUser("zoë", "pa:ss:wörd", "ünïcode");

        JsonNode body = assertOkObject(verify(basic("zoë", "pa:ss:wörd")));

        assertEquals("zoë", body.get("username").asText());
        assertEquals("ünïcode", body.get("tenant_name").asText());
        assertError(401, verify(basic("zoë", "pa")));
    }

    // --- what is refused -----------------------------------------------------------------------------------

    @Test
    void refusesAMissingCredentialWith401() {
        broker = brokers.start();

        assertError(401, verify(null));
    }

    @Test
    void refusesMalformedCredentialsWith401() {
        startWithAlice();
        String jwt = aliceToken();
        assertAlice(verify("Bearer " + jwt));
        String[] parts = jwt.split("\\.");
        List<Executable> checks = new ArrayList<>();
        for (String authorization : List.of("", "Bearer", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer ...",
                "Bearer " + parts[0] + "." + parts[1], "Bearer " + jwt + "x", "Bearer " + jwt.substring(1),
                "Bearer " + parts[0] + "." + parts[1] + ".", "Token " + jwt, jwt, "Basic", "Basic !!!!",
                "Basic " + Base64.getEncoder().encodeToString("no-colon".getBytes(StandardCharsets.UTF_8)),
                "Digest username=\"alice\"")) {
            checks.add(() -> assertError(401, verify(authorization), "Authorization: " + authorization));
        }
        assertAll(checks);
    }

    @Test
    void refusesATokenSignedWithAnotherSecretWith401() {
        startWithAlice();
        String forged = HttpJwt.hs256(HttpJwt.claimsFor("alice", "acme", 3600), "another-secret-of-at-least-32-bytes!!");

        assertError(401, verify("Bearer " + forged));
    }

    @Test
    void refusesATamperedPayloadWith401() {
        startWithAlice();
        broker.createUser("mallory", "pw", "evil");
        String[] parts = broker.login("mallory", "pw").split("\\.");
        String claims = Base64.getUrlEncoder().withoutPadding().encodeToString(
                HttpJwt.claimsFor("alice", "acme", 3600).toString().getBytes(StandardCharsets.UTF_8));

        assertError(401, verify("Bearer " + parts[0] + "." + claims + "." + parts[2]));
    }

    @Test
    void refusesAnUnsecuredAlgNoneTokenWith401() {
        startWithAlice();
        ObjectNode claims = HttpJwt.claimsFor("alice", "acme", 3600);

        assertError(401, verify("Bearer " + HttpJwt.unsecured(claims)));
        // Even with a signature appended, 'none' is not an algorithm the server takes.
        String withSignature = HttpJwt.unsecured(claims)
                + HttpJwt.hs256(claims, TestBroker.JWT_SECRET).substring(HttpJwt.hs256(claims, TestBroker.JWT_SECRET).lastIndexOf('.') + 1);
        assertError(401, verify("Bearer " + withSignature));
    }

    @Test
    void refusesATokenWithoutExpiryWith401() {
        startWithAlice();
        ObjectNode claims = HttpJwt.claimsFor("alice", "acme", 3600);
        claims.remove("exp");

        assertError(401, verify("Bearer " + HttpJwt.hs256(claims, TestBroker.JWT_SECRET)));
    }

    @Test
    void refusesAHandMadeTokenThatExpiredWith401() {
        startWithAlice();
        ObjectNode claims = HttpJwt.claimsFor("alice", "acme", -3600);

        assertError(401, verify("Bearer " + HttpJwt.hs256(claims, TestBroker.JWT_SECRET)));
    }

    @Test
    void refusesATokenOnceItExpires() throws InterruptedException {
        broker = brokers.start(c -> c.with(Flags.JWT_EXPIRY, 1L));
        broker.createUser("alice", "s3cret", "acme");
        String jwt = broker.login("alice", "s3cret");
        assertEquals(1, HttpJwt.claims(jwt).get("exp").asLong() - HttpJwt.claims(jwt).get("iat").asLong());

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        HttpResult result = verify("Bearer " + jwt);
        while (result.status() == 200 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            result = verify("Bearer " + jwt);
        }

        assertError(401, result, "a token past its exp");
        long exp = HttpJwt.claims(jwt).get("exp").asLong();
        assertTrue(System.currentTimeMillis() / 1000 >= exp - 1, "refused before it expired");
        assertAlice(verify("Bearer " + broker.login("alice", "s3cret")));
    }

    @Test
    void refusesAValidlySignedTokenOfAnUnknownUserWith401() {
        startWithAlice();
        String ghost = HttpJwt.hs256(HttpJwt.claimsFor("ghost", "acme", 3600), TestBroker.JWT_SECRET);

        assertError(401, verify("Bearer " + ghost));
        assertError(401, verify(basic("ghost", "s3cret")));
    }

    @Test
    void refusesAWrongBasicPasswordWith401() {
        startWithAlice();

        assertError(401, verify(basic("alice", "S3cret")));
        assertError(401, verify(basic("alice", "")));
        assertError(401, verify(basic("alice", "s3cret ")));
        assertAlice(verify(basic("alice", "s3cret")));
        assertError(401, verify(basic("alice", "S3cret")), "a cached good credential does not vouch for a bad one");
    }

    @Test
    void refusesARevokedUsersTokenAndBasicCredentialWith401() {
        startWithAlice();
        String jwt = aliceToken();

        setRevoked("alice", true);

        assertError(401, verify("Bearer " + jwt));
        assertError(401, verify(basic("alice", "s3cret")));
    }

    @Test
    void refusesARevokedUsersCachedBasicCredentialAtOnce() {
        startWithAlice();
        String credential = basic("alice", "s3cret");
        assertAlice(verify(credential)); // verified by hashing, now cached
        assertAlice(verify(credential));

        setRevoked("alice", true);

        assertError(401, verify(credential));
    }

    @Test
    void acceptsBasicCredentialsAgainAfterUnrevoke() {
        startWithAlice();
        String credential = basic("alice", "s3cret");
        assertAlice(verify(credential));
        setRevoked("alice", true);
        assertError(401, verify(credential));

        setRevoked("alice", false);

        assertAlice(verify(credential));
    }

    @Test
    void ignoresTheAccessTokenQueryParameterOutsideSse() {
        startWithAlice();
        String jwt = aliceToken();

        assertError(401, broker.get("/verify?access_token=" + jwt));
        assertError(401, broker.post("/insert?access_token=" + jwt, "{\"event\":\"e\",\"data\":1}"));
    }

    @Test
    void sseTakesTheTokenFromTheAccessTokenQueryParameter() {
        startWithAlice();
        String jwt = aliceToken();
        String forged = HttpJwt.hs256(HttpJwt.claimsFor("alice", "acme", 60), "another-secret-of-at-least-32-bytes!!");

        try (RawHttp raw = RawHttp.connect(broker.port())) {
            RawHttp.Response head = raw.send("GET /sse?access_token=" + jwt + " HTTP/1.1\r\nHost: x\r\n\r\n").readHead();
            assertEquals(200, head.status(), head.statusLine());
            assertEquals("text/event-stream", head.header("Content-Type"));
        }
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            assertError(401, raw.send("GET /sse?access_token=" + forged + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .readResponse().toResult());
        }
        assertError(401, broker.get("/sse"), "no credential at all");
    }
}
