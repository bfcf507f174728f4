package dev.broker.server.http;

/**
 * Told of every answer the {@link ExchangeRecorder} sees: each response head for the response metrics, and, when
 * {@link #wantsExchanges()}, each finished exchange for the access log. Called on the channel's event loop: it must be
 * quick and must not block.
 */
public interface ExchangeListener {

    /** The route label of an answer to a target that matches no route (404s, malformed requests). */
    String NO_ROUTE = "none";

    /** Listens to nothing. */
    ExchangeListener NONE = new ExchangeListener() {
        @Override
        public void answered(String route, int status) {
        }

        @Override
        public boolean wantsExchanges() {
            return false;
        }

        @Override
        public void completed(Exchange exchange) {
        }
    };

    /** A response head left for a request of {@code route} (a route name, or {@link #NO_ROUTE}). */
    void answered(String route, int status);

    /**
     * Whether {@link #completed} should be called. When false, a stream is not followed past its response head, and
     * costs nothing more.
     */
    boolean wantsExchanges();

    /** A request was answered completely, or a stream ended. */
    void completed(Exchange exchange);
}
