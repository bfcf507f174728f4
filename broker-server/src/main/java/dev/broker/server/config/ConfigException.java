package dev.broker.server.config;

/**
 * Broker cannot start with the configuration it was given. The message is one line for a human: it names the
 * flag, environment variable or file at fault and, unless it is a secret, the offending value. Print it and exit
 * with a non-zero status; the stack trace adds nothing.
 */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
