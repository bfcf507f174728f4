package dev.broker.server.pipeline;

import java.util.List;

/**
 * Names of the pipeline's handlers. An HTTP/2 stream's child channel uses the same names for the same roles
 * ({@link #HTTP_CODEC} is its HTTP/2-to-HTTP/1 codec there).
 */
public final class HandlerNames {

    public static final String TLS = "tls";
    /** Until the first bytes arrive: tells TLS from plain HTTP, then becomes {@link #TLS}. */
    public static final String TLS_GUARD = "tlsGuard";
    /** Until the TLS handshake is done: picks HTTP/2 or HTTP/1.1 from ALPN, then leaves. */
    public static final String ALPN = "alpn";
    /** HTTP/2 connection: frames to and from the streams. */
    public static final String H2_CODEC = "h2Codec";
    /** HTTP/2 connection: its streams' flushes merged into one per turn of the loop (one TLS write). */
    public static final String H2_FLUSH_CONSOLIDATION = "h2FlushConsolidation";
    /** HTTP/2 connection: closes it when idle with no stream open. */
    public static final String H2_IDLE = "h2Idle";
    /** HTTP/2 connection: one child channel per stream. */
    public static final String H2_MULTIPLEX = "h2Multiplex";
    /** HTTP/2 connection: closes it unless the client's preface and SETTINGS arrive in time, then leaves. */
    public static final String H2_SETTINGS_DEADLINE = "h2SettingsDeadline";
    public static final String IDLE_TIMEOUT = "idleTimeout";
    public static final String FLUSH_CONSOLIDATION = "flushConsolidation";
    /** HTTP/1.1, before the codec: a request's first byte starts the clock of its deadline. */
    public static final String REQUEST_START = "requestStart";
    public static final String HTTP_CODEC = "httpCodec";
    /** After the codec: the request deadline itself (a 408 when a request takes too long to arrive). */
    public static final String REQUEST_DEADLINE = "requestDeadline";
    public static final String AGGREGATOR = "aggregator";
    public static final String SEQUENCER = "sequencer";
    /**
     * After the sequencer: tells the response metrics and the access log of each answer. Not request-only: it leaves
     * a stream by itself, or follows it to its end for the access log.
     */
    public static final String EXCHANGES = "exchanges";
    public static final String CORS = "cors";
    public static final String ROUTER = "router";
    public static final String AUTH = "auth";
    public static final String API = "api";
    /** A stream's end, in place of the request handlers (see {@link StreamPipeline}). */
    public static final String SSE_STREAM = "sseStream";
    /** A stream over HTTP/2: wraps the shared event bytes in DATA frames (in place of the codec). */
    public static final String SSE_H2_ENCODER = "sseH2Encoder";
    public static final String EXCEPTIONS = "exceptions";

    /**
     * The handlers only requests need, which leave when a channel becomes a stream (those of them the channel has:
     * an HTTP/2 stream has no idle timeout or flush consolidation of its own, and its codec is replaced instead).
     */
    static final List<String> REQUEST_ONLY = List.of(
            IDLE_TIMEOUT, FLUSH_CONSOLIDATION, REQUEST_START, HTTP_CODEC, REQUEST_DEADLINE, AGGREGATOR, SEQUENCER, CORS, ROUTER, AUTH, API);

    private HandlerNames() {
    }
}
