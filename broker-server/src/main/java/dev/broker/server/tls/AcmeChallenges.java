package dev.broker.server.tls;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The HTTP-01 challenges under way: token to key authorization, written by the ACME client, read by port 80. */
public final class AcmeChallenges {

    /** The path prefix the CA fetches challenges from (RFC 8555 §8.3). */
    public static final String PATH_PREFIX = "/.well-known/acme-challenge/";

    private final Map<String, String> byToken = new ConcurrentHashMap<>();

    void put(String token, String keyAuthorization) {
        byToken.put(token, keyAuthorization);
    }

    void remove(String token) {
        byToken.remove(token);
    }

    /** The key authorization for the token, or null. */
    public String keyAuthorization(String token) {
        return byToken.get(token);
    }
}
