package dev.broker.server.auth;

import dev.broker.storage.User;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a credential into a {@link Principal}: a Bearer JWT (verified in place: an HMAC is cheap) or HTTP Basic
 * (an Argon2 verification on the hashing threads the first time, then the {@link BasicCredentialCache}). The user
 * must exist and not be revoked, as the {@link UserDirectory} says: a user in its cache is checked in place (the
 * returned future is already complete), any other is read from the store and the future completes on the store's
 * thread. A store that cannot read fails the future with its exception. A failure completes the future with an {@link AuthenticationException}; a Basic
 * credential that would need hashing while its username or client address failed too often lately completes it
 * with {@link TooManyAttemptsException} (nothing is hashed), and one that finds the hashing queue full with
 * {@link HashingBusyException}. Concurrent requests with the same uncached Basic credential share one verification.
 * JWT failures are not counted: they cost an HMAC, and a 256-bit key cannot be guessed, while counting them would let
 * a page retrying an expired token lock its own address out of logging in again.
 */
public final class Authenticator {

    private final JwtTokens tokens;
    private final UserDirectory users;
    private final PasswordHasher hasher;
    private final BasicCredentialCache basicCache;
    private final AuthThrottle throttle;
    /** Basic credentials being verified now, by cache key: later requests with the same one wait for that result. */
    private final ConcurrentHashMap<ByteBuffer, CompletableFuture<String>> verifying = new ConcurrentHashMap<>();

    public Authenticator(JwtTokens tokens, UserDirectory users, PasswordHasher hasher, BasicCredentialCache basicCache) {
        this(tokens, users, hasher, basicCache, AuthThrottle.unlimited());
    }

    public Authenticator(JwtTokens tokens, UserDirectory users, PasswordHasher hasher, BasicCredentialCache basicCache,
                         AuthThrottle throttle) {
        this.tokens = tokens;
        this.users = users;
        this.hasher = hasher;
        this.basicCache = basicCache;
        this.throttle = throttle;
    }

    /** {@link #authenticate(String, String, InetAddress)} from an unknown address. */
    public CompletableFuture<Principal> authenticate(String authorization, String accessToken) {
        return authenticate(authorization, accessToken, null);
    }

    /**
     * @param authorization the {@code Authorization} header, or null
     * @param accessToken   a JWT from the query string (allowed on {@code /sse} only), or null
     * @param client        the client's address as the limits key it ({@code ClientAddress}), or null
     */
    public CompletableFuture<Principal> authenticate(String authorization, String accessToken, InetAddress client) {
        try {
            if (authorization != null) {
                String value = authorization.trim();
                if (startsWithIgnoreCase(value, "Bearer ")) {
                    return bearer(value.substring(7).trim());
                }
                if (startsWithIgnoreCase(value, "Basic ")) {
                    return basic(value, client);
                }
                throw new AuthenticationException(AuthFailures.Kind.MALFORMED, "unsupported authorization scheme");
            }
            if (accessToken != null) {
                return bearer(accessToken);
            }
            throw new AuthenticationException(AuthFailures.Kind.MISSING, "missing credentials");
        } catch (AuthenticationException | TooManyAttemptsException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletableFuture<Principal> bearer(String token) {
        return principalOf(tokens.verify(token));
    }

    private CompletableFuture<Principal> basic(String header, InetAddress client) {
        ByteBuffer key = BasicCredentialCache.keyOf(header);
        String cached = basicCache.lookup(key);
        if (cached != null) {
            return principalOf(cached);
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new AuthenticationException(AuthFailures.Kind.MALFORMED, "malformed Basic credentials");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            throw new AuthenticationException(AuthFailures.Kind.MALFORMED, "malformed Basic credentials");
        }
        String username = decoded.substring(0, colon);
        String password = decoded.substring(colon + 1);
        CompletableFuture<String> mine = new CompletableFuture<>();
        CompletableFuture<String> underWay = verifying.putIfAbsent(key, mine);
        if (underWay != null) {
            return underWay.thenCompose(this::principalOf);
        }
        AuthThrottle.Attempt attempt;
        try {
            attempt = throttle.begin(username, client);
        } catch (TooManyAttemptsException e) {
            verifying.remove(key, mine);
            mine.completeExceptionally(e);
            throw e;
        }
        users.find(username)
                .thenCompose(user -> hasher.verifyAsync(password, user.map(User::passwordHash).orElse(null),
                        attempt.lane()))
                .whenComplete((ok, failure) -> {
                    if (failure != null) {
                        attempt.abandoned();
                        verifying.remove(key, mine);
                        mine.completeExceptionally(failure);
                    } else if (!ok) {
                        attempt.failed();
                        verifying.remove(key, mine);
                        mine.completeExceptionally(new AuthenticationException(AuthFailures.Kind.BAD_PASSWORD,
                                "wrong username or password"));
                    } else {
                        attempt.succeeded();
                        basicCache.put(key, username); // before the entry leaves, so that no one hashes it again
                        verifying.remove(key, mine);
                        mine.complete(username);
                    }
                });
        return mine.thenCompose(this::principalOf);
    }

    /**
     * The principal of a known, unrevoked user as the directory has it at the moment of the request: in place when
     * the user is cached (the hot path: a JWT on every insert), else once the store has answered.
     */
    private CompletableFuture<Principal> principalOf(String username) {
        Optional<User> cached = users.cached(username);
        if (cached != null) {
            try {
                return CompletableFuture.completedFuture(principalOf(cached));
            } catch (AuthenticationException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return users.find(username).thenApply(Authenticator::principalOf);
    }

    private static Principal principalOf(Optional<User> known) {
        if (known.isEmpty()) {
            throw new AuthenticationException(AuthFailures.Kind.UNKNOWN_USER, "unknown user");
        }
        User user = known.get();
        if (user.revoked()) {
            throw new AuthenticationException(AuthFailures.Kind.REVOKED, "user is revoked");
        }
        return new Principal(user.username(), user.tenant());
    }

    private static boolean startsWithIgnoreCase(String value, String prefix) {
        return value.regionMatches(true, 0, prefix, 0, prefix.length());
    }
}
