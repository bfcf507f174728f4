package dev.broker.server.auth;

/**
 * The username or the client address failed to authenticate too often lately; the password was not checked
 * (a 429 with {@code Retry-After}).
 */
public final class TooManyAttemptsException extends RuntimeException {

    private final long retryAfterSeconds;

    public TooManyAttemptsException(long retryAfterSeconds) {
        super("too many failed attempts; retry in " + retryAfterSeconds + " s", null, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Whole seconds until one more attempt is allowed (at least 1). */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
