package dev.broker.server.auth;

/** A credential was missing or not good; the message is safe to show the client (a 401). */
public final class AuthenticationException extends RuntimeException {

    public AuthenticationException(String message) {
        super(message, null, false, false);
    }
}
