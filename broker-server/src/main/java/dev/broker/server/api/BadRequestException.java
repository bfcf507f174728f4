package dev.broker.server.api;

/** The request body is not what the endpoint takes; the message tells the client what is wrong (a 400). */
public final class BadRequestException extends Exception {

    public BadRequestException(String message) {
        super(message, null, false, false);
    }
}
