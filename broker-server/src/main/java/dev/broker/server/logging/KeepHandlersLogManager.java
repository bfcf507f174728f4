package dev.broker.server.logging;

import java.util.logging.LogManager;

/**
 * The JDK's log manager, except that it keeps the handlers {@link LineFormats#install} put in place when the JVM
 * shuts down: the JDK's own shutdown hook resets logging while the server's hook still runs, which would swallow the
 * operator events of a graceful stop ({@code stopping}, {@code stopped}). Its console handler writes and flushes
 * every record at once, so nothing is left to flush. {@code Main} selects it before anything logs.
 */
public final class KeepHandlersLogManager extends LogManager {

    private static volatile boolean keep;

    /** From now on, {@link #reset} leaves the handlers alone. */
    static void keepHandlers() {
        keep = true;
    }

    @Override
    public void reset() {
        if (!keep) {
            super.reset();
        }
    }
}
