package dev.broker.server.auth;

import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * Failed authentications since the start, by kind: a small fixed set, never by user or address (for metrics and
 * the operator log). Thread-safe and cheap: one {@link LongAdder} per kind.
 */
public final class AuthFailures {

    /** Why an authentication failed. */
    public enum Kind {
        /** No credential at all. */
        MISSING,
        /** A credential that does not parse: an unknown scheme, Basic that is not base64 of {@code user:password}. */
        MALFORMED,
        /** A JWT that is not valid: bad signature, expired, not a JWT. */
        BAD_TOKEN,
        /** A wrong password, or a username that does not exist (a password check cannot tell them apart). */
        BAD_PASSWORD,
        /** A valid token of a user that no longer exists. */
        UNKNOWN_USER,
        /** A right credential of a revoked user. */
        REVOKED,
        /** Refused without a password check: too many failures of the username or address lately (429). */
        THROTTLED,
        /** A wrong admin token (user management, {@code /metrics}). */
        BAD_ADMIN_TOKEN;

        /** The label value: the name in lower case. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final LongAdder[] counts = new LongAdder[Kind.values().length];

    public AuthFailures() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    public void record(Kind kind) {
        counts[kind.ordinal()].increment();
    }

    public long count(Kind kind) {
        return counts[kind.ordinal()].sum();
    }

    /** Every failure, of any kind. */
    public long total() {
        long total = 0;
        for (LongAdder count : counts) {
            total += count.sum();
        }
        return total;
    }
}
