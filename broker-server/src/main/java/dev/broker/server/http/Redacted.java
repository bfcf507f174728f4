package dev.broker.server.http;

/**
 * An exception fit for the log: the class names and stack traces of a failure and its causes, without their
 * messages. Failures met while handling a request can carry what the client sent in their messages (a URL with an
 * access token that did not decode, a body fragment a parser quotes), and nothing user-supplied may reach a log.
 */
public final class Redacted extends RuntimeException {

    private Redacted(Throwable original, Redacted cause) {
        super(original.getClass().getName() + " (message withheld)", cause, false, true);
        setStackTrace(original.getStackTrace());
    }

    /** The failure and its causes, messages withheld; null for null. */
    public static Redacted of(Throwable failure) {
        if (failure == null) {
            return null;
        }
        // Causes are bounded: a cycle in a cause chain must not loop forever.
        Throwable[] chain = new Throwable[16];
        int depth = 0;
        for (Throwable t = failure; t != null && depth < chain.length; t = t.getCause()) {
            chain[depth++] = t;
            if (t.getCause() == t) {
                break;
            }
        }
        Redacted redacted = null;
        for (int i = depth - 1; i >= 0; i--) {
            redacted = new Redacted(chain[i], redacted);
        }
        return redacted;
    }

    @Override
    public String toString() {
        return getMessage();
    }
}
