package dev.broker.server.dump;

/**
 * The dump cannot be read or written. The message names the line (for an import) and what is wrong with it, never
 * the values on it: they are users' data.
 */
public final class DumpException extends RuntimeException {

    public DumpException(String message) {
        super(message);
    }

    public DumpException(String message, Throwable cause) {
        super(message, cause);
    }
}
