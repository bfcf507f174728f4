package dev.broker.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * JWTs built and taken apart by hand (base64url JSON and an HMAC-SHA256 from {@code javax.crypto}), so that the
 * tests check Broker's tokens against the JWT specification rather than against the library Broker uses.
 */
public final class HttpJwt {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64URL_DECODER = Base64.getUrlDecoder();

    private HttpJwt() {
    }

    /** The decoded JOSE header of a compact JWT. */
    public static JsonNode header(String jwt) {
        return part(jwt, 0);
    }

    /** The decoded claims of a compact JWT (the signature is not checked). */
    public static JsonNode claims(String jwt) {
        return part(jwt, 1);
    }

    private static JsonNode part(String jwt, int index) {
        String[] parts = jwt.split("\\.", -1);
        if (parts.length != 3) {
            throw new AssertionError("not a compact JWS (three dot-separated parts): " + jwt);
        }
        try {
            return JSON.readTree(B64URL_DECODER.decode(parts[index]));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh claims object: {@code sub}, {@code tenant_name}, {@code iat} = now, {@code exp} = now + lifetime. */
    public static ObjectNode claimsFor(String username, String tenant, long lifetimeSeconds) {
        long now = System.currentTimeMillis() / 1000;
        return JSON.createObjectNode()
                .put("sub", username)
                .put("tenant_name", tenant)
                .put("iat", now)
                .put("exp", now + lifetimeSeconds);
    }

    /** An HS256 token over {@code claims}, keyed with the UTF-8 bytes of {@code secret}. */
    public static String hs256(ObjectNode claims, String secret) {
        String signingInput = encode(JSON.createObjectNode().put("alg", "HS256").put("typ", "JWT")) + "." + encode(claims);
        return signingInput + "." + B64URL.encodeToString(hmacSha256(secret, signingInput));
    }

    /** An unsecured token ({@code "alg": "none"}, empty signature), RFC 7519 §6. */
    public static String unsecured(ObjectNode claims) {
        return encode(JSON.createObjectNode().put("alg", "none").put("typ", "JWT")) + "." + encode(claims) + ".";
    }

    /** Whether the token's signature is HMAC-SHA256 of its first two parts under {@code secret}. */
    public static boolean signatureMatches(String jwt, String secret) {
        int lastDot = jwt.lastIndexOf('.');
        byte[] expected = hmacSha256(secret, jwt.substring(0, lastDot));
        byte[] actual = B64URL_DECODER.decode(jwt.substring(lastDot + 1));
        return java.security.MessageDigest.isEqual(expected, actual);
    }

    private static String encode(JsonNode node) {
        return B64URL.encodeToString(node.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] hmacSha256(String secret, String signingInput) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
