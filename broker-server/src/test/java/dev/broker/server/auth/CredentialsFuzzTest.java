package dev.broker.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.broker.server.testing.OneUserStore;
import dev.broker.storage.User;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The credential parsers on any text: a Bearer token, a query {@code access_token} or a Basic header either names a
 * known user or fails with an {@link AuthenticationException} (a 401) — never anything else, which would be a 500.
 * A made-up token never verifies. Replays its corpus in every build; {@code JAZZER_FUZZ=1} fuzzes.
 */
class CredentialsFuzzTest {

    private static final String SECRET = "fuzzing-secret-of-at-least-32-bytes!!";
    private static final JwtTokens TOKENS = new JwtTokens(SECRET, 3600);
    /** Hashing on the caller's thread keeps each input deterministic. */
    private static final PasswordHasher HASHER = new PasswordHasher(Runnable::run);
    private static final Authenticator AUTHENTICATOR = new Authenticator(TOKENS,
            new UserDirectory(new OneUserStore(new User("1", "ada", "acme", HASHER.hash("s3cret"), false)), 100),
            HASHER, new BasicCredentialCache());

    @FuzzTest(maxDuration = "60s")
    void madeUpTokensNeverVerify(FuzzedDataProvider data) {
        String token = data.consumeRemainingAsString();
        try {
            TOKENS.verify(token);
            fail("a made-up token verified: " + token);
        } catch (AuthenticationException refused) {
            // 401
        }
    }

    @FuzzTest(maxDuration = "60s")
    void authorizationHeadersAuthenticateOrAreRefused(FuzzedDataProvider data) {
        boolean asQueryToken = data.consumeBoolean();
        String authorization = data.consumeRemainingAsString();
        CompletableFuture<Principal> result = asQueryToken
                ? AUTHENTICATOR.authenticate(null, authorization)
                : AUTHENTICATOR.authenticate(authorization, null);
        try {
            Principal principal = result.join();
            // Only the one real credential gets in.
            assertEquals(new Principal("ada", "acme"), principal, authorization);
        } catch (CompletionException e) {
            assertInstanceOf(AuthenticationException.class, e.getCause(), authorization);
        }
    }
}
