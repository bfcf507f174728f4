package dev.broker.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Constant-time comparison of secrets. */
public final class Secrets {

    private Secrets() {
    }

    /**
     * Whether {@code given} equals {@code expected}, in time that depends on neither: both are hashed first, so not
     * even the length leaks.
     */
    public static boolean matches(String given, String expected) {
        return MessageDigest.isEqual(sha256(given), sha256(expected));
    }

    static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
