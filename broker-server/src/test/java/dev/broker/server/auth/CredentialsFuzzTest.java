package dev.broker.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.broker.storage.User;
import dev.broker.storage.UserStore;
import java.util.List;
import java.util.Optional;
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
            UserDirectory.load(new OneUser(new User("1", "ada", "acme", HASHER.hash("s3cret"), false))),
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

    /** A user store of one user, as the directory loads it at start-up. */
    private record OneUser(User user) implements UserStore {
        @Override
        public CompletableFuture<Boolean> create(User other) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Optional<User>> find(String username) {
            return CompletableFuture.completedFuture(Optional.of(user).filter(u -> u.username().equals(username)));
        }

        @Override
        public CompletableFuture<List<User>> list() {
            return CompletableFuture.completedFuture(List.of(user));
        }

        @Override
        public CompletableFuture<Optional<User>> setRevoked(String username, boolean revoked) {
            throw new UnsupportedOperationException();
        }
    }
}
