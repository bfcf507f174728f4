package dev.broker.server.console;

import dev.broker.server.api.ApiRequest;
import dev.broker.server.api.Endpoint;
import dev.broker.server.http.HttpResponses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * {@code GET /console/…} (and HEAD): the console's static files from {@link ConsoleFiles}. {@code /console} redirects
 * to {@code /console/}, which is {@code index.html}, so that the page's relative links resolve under it. Every
 * answer carries a strict Content-Security-Policy (the page's own scripts, styles and requests only; no framing),
 * {@code X-Content-Type-Options: nosniff} and {@code Referrer-Policy: no-referrer}. Files are served with
 * {@code Cache-Control: no-cache} and a strong {@code ETag}: their names carry no version, so a browser revalidates
 * each time and gets a {@code 304} while nothing changed. A name the console does not have is a {@code 404}.
 */
public final class ConsoleEndpoint implements Endpoint {

    public static final String CONTENT_SECURITY_POLICY = "default-src 'self'; connect-src 'self'; script-src 'self'; "
            + "style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    private static final String BARE_PATH = "/console";
    private static final String PREFIX = "/console/";
    private static final String INDEX = "index.html";

    private final ConsoleFiles files;

    public ConsoleEndpoint(ConsoleFiles files) {
        this.files = files;
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) {
        String path = request.path();
        if (path.equals(BARE_PATH)) {
            FullHttpResponse redirect = response(HttpResponseStatus.MOVED_PERMANENTLY, Unpooled.EMPTY_BUFFER);
            // Relative, so that it holds behind a proxy that mounts Broker under a prefix.
            redirect.headers().set(HttpHeaderNames.LOCATION, "console/");
            HttpResponses.empty(ctx, request.slot(), redirect);
            return;
        }
        String name = path.substring(PREFIX.length());
        ConsoleFiles.File file = files.get(name.isEmpty() ? INDEX : name);
        if (file == null) {
            HttpResponses.error(ctx, request.slot(), HttpResponseStatus.NOT_FOUND, "not found");
            return;
        }
        if (matches(request.http().headers().get(HttpHeaderNames.IF_NONE_MATCH), file.etag())) {
            FullHttpResponse notModified = response(HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER);
            notModified.headers().set(HttpHeaderNames.ETAG, file.etag());
            // A 304 has no body and, over HTTP/1.1, no Content-Length to be read as one.
            HttpResponses.send(ctx, request.slot(), notModified);
            return;
        }
        boolean head = HttpMethod.HEAD.equals(request.http().method());
        // Wrapped, not copied: every response reads the same bytes.
        ByteBuf body = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(file.bytes());
        FullHttpResponse ok = response(HttpResponseStatus.OK, body);
        ok.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, file.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, file.bytes().length)
                .set(HttpHeaderNames.ETAG, file.etag());
        HttpResponses.send(ctx, request.slot(), ok);
    }

    /**
     * Whether an {@code If-None-Match} list names this ETag (by weak comparison, as RFC 9110 §13.1.2 asks) or is
     * {@code *}.
     */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String candidate : ifNoneMatch.split(",")) {
            String tag = candidate.trim();
            if (tag.startsWith("W/")) {
                tag = tag.substring(2);
            }
            if (tag.equals("*") || tag.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    private static FullHttpResponse response(HttpResponseStatus status, ByteBuf body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        HttpHeaders headers = response.headers();
        headers.set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
                .set("X-Content-Type-Options", "nosniff")
                .set("Referrer-Policy", "no-referrer");
        return response;
    }
}
