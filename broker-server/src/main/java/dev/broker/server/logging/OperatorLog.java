package dev.broker.server.logging;

import java.lang.System.Logger.Level;

/**
 * The operator's event log: what someone running Broker for months wants to read, at INFO (WARNING and ERROR for
 * trouble), each line with a stable event name and structured fields (see {@link LogFields}), through one logger,
 * {@value #LOGGER}. Messages and fields carry nothing a client sent and no secret: no usernames, tenants, event
 * names, tokens or query strings; what happens per client or per stream is counted and reported in aggregate (see
 * {@link OperatorReport}).
 */
public final class OperatorLog {

    /** The logger of every operator event. */
    public static final String LOGGER = "dev.broker.server.events";

    private static final System.Logger LOG = System.getLogger(LOGGER);

    private OperatorLog() {
    }

    /** An event at INFO: {@code message} is plain text (no pattern), {@code fields} are name, value pairs. */
    public static void info(String event, String message, Object... fields) {
        log(Level.INFO, event, message, fields);
    }

    public static void warning(String event, String message, Object... fields) {
        log(Level.WARNING, event, message, fields);
    }

    public static void log(Level level, String event, String message, Object... fields) {
        if (LOG.isLoggable(level)) {
            // The message has no placeholders ({0}), so it is printed as it is; the fields ride along.
            LOG.log(level, message, LogFields.of(event, fields));
        }
    }
}
