package dev.broker.server.auth;

/** A credential was missing or not good; the message is safe to show the client (a 401). */
public final class AuthenticationException extends RuntimeException {

    private final AuthFailures.Kind kind;

    public AuthenticationException(String message) {
        this(AuthFailures.Kind.BAD_TOKEN, message);
    }

    public AuthenticationException(AuthFailures.Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    /** What was wrong, for counting. */
    public AuthFailures.Kind kind() {
        return kind;
    }
}
