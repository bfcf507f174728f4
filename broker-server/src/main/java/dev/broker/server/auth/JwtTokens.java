package dev.broker.server.auth;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.NumericDate;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.keys.HmacKey;
import org.jose4j.lang.JoseException;

/**
 * Issues and verifies Broker's HS256 JWTs. The key is the UTF-8 bytes of the configured secret, so any JWT library
 * verifies Broker's tokens with the same string. Only HS256 is accepted ({@code alg: none} and every other
 * algorithm are refused); {@code exp} and {@code sub} are required, with no clock skew allowed.
 */
public final class JwtTokens {

    public static final String TENANT_CLAIM = "tenant_name";
    /** How many verified tokens are remembered at most. */
    static final int MAX_REMEMBERED = 50_000;

    private record Verified(String subject, long expiresAtMillis) {
    }

    private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();

    private final HmacKey key;
    private final long expirySeconds;
    private final JwtConsumer consumer;

    public JwtTokens(String secret, long expirySeconds) {
        // Short secrets are allowed (the default is "secret"); the server warns about them at start-up.
        this.key = new HmacKey(secret.getBytes(StandardCharsets.UTF_8));
        this.expirySeconds = expirySeconds;
        this.consumer = new JwtConsumerBuilder()
                .setRequireExpirationTime()
                .setRequireSubject()
                .setAllowedClockSkewInSeconds(0)
                .setVerificationKey(key)
                .setRelaxVerificationKeyValidation()
                .setJwsAlgorithmConstraints(AlgorithmConstraints.ConstraintType.PERMIT, AlgorithmIdentifiers.HMAC_SHA256)
                .build();
    }

    /** A signed token for the user, valid for the configured lifetime. */
    public String issue(String username, String tenant) {
        JwtClaims claims = new JwtClaims();
        claims.setSubject(username);
        claims.setClaim(TENANT_CLAIM, tenant);
        NumericDate now = NumericDate.now();
        claims.setIssuedAt(now);
        claims.setExpirationTime(NumericDate.fromSeconds(now.getValue() + expirySeconds));
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        jws.setHeader("typ", "JWT");
        jws.setKey(key);
        jws.setDoKeyValidation(false);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException("signing a JWT failed", e);
        }
    }

    /**
     * The username ({@code sub}) of a valid token; throws {@link AuthenticationException} otherwise. A token that
     * verified once is remembered until it expires, so a client sending the same JWT on every request pays for the
     * signature check and the JSON parsing once (revocation is checked per request elsewhere).
     */
    public String verify(String token) {
        Verified known = verified.get(token);
        if (known != null) {
            if (System.currentTimeMillis() < known.expiresAtMillis) {
                return known.subject;
            }
            verified.remove(token, known);
            throw new AuthenticationException("token expired");
        }
        try {
            JwtClaims claims = consumer.processToClaims(token);
            String subject = claims.getSubject();
            if (verified.size() >= MAX_REMEMBERED) {
                verified.clear(); // bounds memory; the next requests verify again
            }
            verified.put(token, new Verified(subject, claims.getExpirationTime().getValueInMillis()));
            return subject;
        } catch (InvalidJwtException e) {
            throw new AuthenticationException(e.hasExpired() ? "token expired" : "invalid token");
        } catch (MalformedClaimException e) {
            throw new AuthenticationException("invalid token");
        }
    }
}
