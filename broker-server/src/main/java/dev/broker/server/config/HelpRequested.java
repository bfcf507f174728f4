package dev.broker.server.config;

/**
 * The command line asked for help ({@code --help} or {@code -h}). Not an error: print {@link ConfigLoader#usage()}
 * to standard output and exit with status 0. Deliberately not a {@link ConfigException}, so a handler for
 * configuration errors cannot swallow it by accident. Carries no stack trace.
 */
public final class HelpRequested extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public HelpRequested() {
        super("help requested", null, false, false);
    }
}
