package dev.broker.server.auth;

/** Too many password checks wait for a hashing thread already; this one was not queued (a 503, retry shortly). */
public final class HashingBusyException extends RuntimeException {

    public HashingBusyException() {
        super("too many password checks are waiting; retry shortly", null, false, false);
    }
}
