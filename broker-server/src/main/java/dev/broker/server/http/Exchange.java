package dev.broker.server.http;

/**
 * One request and its answer, as the access log sees it. Nothing in it is what the client wrote, except the method,
 * which is one of the few the codec accepts: the path is the route's own path (the client's target, with its query
 * string and its escapes, never appears), and {@code route} is a route name.
 *
 * @param method   the request's method
 * @param path     the route's path, or {@code null} for a target that matches no route
 * @param route    the route's name, or {@link ExchangeListener#NO_ROUTE}
 * @param status   the status answered
 * @param nanos    from the request's dispatch to the last byte of the answer handed to the transport (for a stream:
 *                 to its end)
 * @param bytes    the body bytes of the answer (for a stream: every byte written to it)
 * @param client   the peer's address (an HTTP/2 stream's is its connection's), or {@code null}
 * @param protocol {@code HTTP/1.1}, {@code HTTP/1.0} or {@code h2}
 * @param stream   whether the answer was an SSE stream (then this describes its end)
 */
public record Exchange(String method, String path, String route, int status, long nanos, long bytes, String client,
                       String protocol, boolean stream) {
}
