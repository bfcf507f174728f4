package dev.broker.server.http;

/**
 * Names of the pipeline's handlers, so that the SSE upgrade can find and remove them. An HTTP/2 stream's child
 * channel uses the same names for the same roles ({@link #HTTP_CODEC} is its HTTP/2-to-HTTP/1 codec there).
 */
public final class HandlerNames {

    public static final String TLS = "tls";
    /** Until the first bytes arrive: tells TLS from plain HTTP, then becomes {@link #TLS}. */
    public static final String TLS_GUARD = "tlsGuard";
    /** Until the TLS handshake is done: picks HTTP/2 or HTTP/1.1 from ALPN, then leaves. */
    public static final String ALPN = "alpn";
    /** HTTP/2 connection: frames to and from the streams. */
    public static final String H2_CODEC = "h2Codec";
    /** HTTP/2 connection: closes it when idle with no stream open. */
    public static final String H2_IDLE = "h2Idle";
    /** HTTP/2 connection: one child channel per stream. */
    public static final String H2_MULTIPLEX = "h2Multiplex";
    public static final String IDLE_TIMEOUT = "idleTimeout";
    public static final String FLUSH_CONSOLIDATION = "flushConsolidation";
    public static final String HTTP_CODEC = "httpCodec";
    public static final String CORS = "cors";
    public static final String AGGREGATOR = "aggregator";
    public static final String SEQUENCER = "sequencer";
    public static final String ROUTER = "router";
    public static final String AUTH = "auth";
    public static final String API = "api";
    public static final String SSE_STREAM = "sseStream";
    /** An SSE stream over HTTP/2: wraps the shared event bytes in DATA frames (in place of the codec). */
    public static final String SSE_H2_ENCODER = "sseH2Encoder";
    public static final String EXCEPTIONS = "exceptions";

    private HandlerNames() {
    }
}
