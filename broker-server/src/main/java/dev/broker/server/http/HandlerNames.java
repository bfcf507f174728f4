package dev.broker.server.http;

/** Names of the pipeline's handlers, so that the SSE upgrade can find and remove them. */
public final class HandlerNames {

    public static final String TLS = "tls";
    public static final String IDLE_TIMEOUT = "idleTimeout";
    public static final String HTTP_CODEC = "httpCodec";
    public static final String CORS = "cors";
    public static final String AGGREGATOR = "aggregator";
    public static final String SEQUENCER = "sequencer";
    public static final String ROUTER = "router";
    public static final String AUTH = "auth";
    public static final String API = "api";
    public static final String SSE_STREAM = "sseStream";
    public static final String EXCEPTIONS = "exceptions";

    private HandlerNames() {
    }
}
