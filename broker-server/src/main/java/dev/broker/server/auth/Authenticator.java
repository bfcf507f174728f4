package dev.broker.server.auth;

import dev.broker.storage.User;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

/**
 * Turns a credential into a {@link Principal}: a Bearer JWT (verified in place: an HMAC is cheap) or HTTP Basic
 * (an Argon2 verification on the hashing threads the first time, then the {@link BasicCredentialCache}). The user
 * must exist and not be revoked. A failure completes the future with an {@link AuthenticationException}.
 */
public final class Authenticator {

    private final JwtTokens tokens;
    private final UserDirectory users;
    private final PasswordHasher hasher;
    private final BasicCredentialCache basicCache;

    public Authenticator(JwtTokens tokens, UserDirectory users, PasswordHasher hasher, BasicCredentialCache basicCache) {
        this.tokens = tokens;
        this.users = users;
        this.hasher = hasher;
        this.basicCache = basicCache;
    }

    /**
     * @param authorization the {@code Authorization} header, or null
     * @param accessToken   a JWT from the query string (allowed on {@code /sse} only), or null
     */
    public CompletableFuture<Principal> authenticate(String authorization, String accessToken) {
        try {
            if (authorization != null) {
                String value = authorization.trim();
                if (startsWithIgnoreCase(value, "Bearer ")) {
                    return CompletableFuture.completedFuture(bearer(value.substring(7).trim()));
                }
                if (startsWithIgnoreCase(value, "Basic ")) {
                    return basic(value);
                }
                throw new AuthenticationException("unsupported authorization scheme");
            }
            if (accessToken != null) {
                return CompletableFuture.completedFuture(bearer(accessToken));
            }
            throw new AuthenticationException("missing credentials");
        } catch (AuthenticationException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private Principal bearer(String token) {
        return principalOf(tokens.verify(token));
    }

    private CompletableFuture<Principal> basic(String header) {
        ByteBuffer key = BasicCredentialCache.keyOf(header);
        String cached = basicCache.lookup(key);
        if (cached != null) {
            return CompletableFuture.completedFuture(principalOf(cached));
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new AuthenticationException("malformed Basic credentials");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            throw new AuthenticationException("malformed Basic credentials");
        }
        String username = decoded.substring(0, colon);
        String password = decoded.substring(colon + 1);
        User user = users.get(username);
        return hasher.verifyAsync(password, user == null ? null : user.passwordHash()).thenApply(ok -> {
            if (!ok) {
                throw new AuthenticationException("wrong username or password");
            }
            Principal principal = principalOf(username);
            basicCache.put(key, username);
            return principal;
        });
    }

    /** The principal of a known, unrevoked user, read from memory at the moment of the request. */
    private Principal principalOf(String username) {
        User user = users.get(username);
        if (user == null) {
            throw new AuthenticationException("unknown user");
        }
        if (user.revoked()) {
            throw new AuthenticationException("user is revoked");
        }
        return new Principal(user.username(), user.tenant());
    }

    private static boolean startsWithIgnoreCase(String value, String prefix) {
        return value.regionMatches(true, 0, prefix, 0, prefix.length());
    }
}
