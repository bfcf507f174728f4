package dev.broker.server.auth;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Basic credentials that passed Argon2 verification recently, so that a client sending Basic auth on every request
 * pays for one hash, not one per request. Keys are SHA-256 digests of the whole header value (the password never
 * sits in memory in the clear); entries expire after a short time and are dropped at once when the user is revoked
 * or unrevoked.
 */
public final class BasicCredentialCache {

    /** How long a verified credential is trusted without hashing again. */
    public static final long TTL_NANOS = 60L * 1_000_000_000L;
    /** Past this many entries the cache starts over, which bounds its memory whatever clients send. */
    static final int MAX_ENTRIES = 100_000;

    private record Entry(String username, long expiresAtNanos) {
    }

    private final ConcurrentHashMap<ByteBuffer, Entry> entries = new ConcurrentHashMap<>();

    /** The username a cached, unexpired credential belongs to, or null. */
    public String lookup(ByteBuffer key) {
        Entry entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (System.nanoTime() - entry.expiresAtNanos > 0) {
            entries.remove(key, entry);
            return null;
        }
        return entry.username;
    }

    public void put(ByteBuffer key, String username) {
        if (entries.size() >= MAX_ENTRIES) {
            entries.clear();
        }
        entries.put(key, new Entry(username, System.nanoTime() + TTL_NANOS));
    }

    /** Forgets every credential of the user (revoke, unrevoke). */
    public void invalidate(String username) {
        entries.values().removeIf(entry -> entry.username.equals(username));
    }

    /** The cache key of an {@code Authorization} header value. */
    public static ByteBuffer keyOf(String authorizationHeader) {
        return ByteBuffer.wrap(Secrets.sha256(authorizationHeader));
    }
}
