package dev.broker.server.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * The plain-HTTP listener of a {@code --secure} server (port 80). Answers ACME HTTP-01 challenges
 * ({@code GET /.well-known/acme-challenge/TOKEN}: the key authorization, or 404) and redirects every other request
 * to the same host and path over HTTPS with {@code 308 Permanent Redirect}, which keeps the method and body.
 * A request without a usable {@code Host} gets {@code 400}; a malformed one {@code 400} and a close.
 */
@Sharable
final class HttpPortHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final AcmeChallenges challenges;
    private final IntSupplier httpsPort;

    HttpPortHandler(AcmeChallenges challenges, IntSupplier httpsPort) {
        this.challenges = challenges;
        this.httpsPort = httpsPort;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            send(ctx, false, text(HttpResponseStatus.BAD_REQUEST, "{\"error\":\"malformed HTTP request\"}"));
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        String uri = request.uri();
        if (uri.startsWith(AcmeChallenges.PATH_PREFIX)
                && (HttpMethod.GET.equals(request.method()) || HttpMethod.HEAD.equals(request.method()))) {
            String answer = challenges.keyAuthorization(uri.substring(AcmeChallenges.PATH_PREFIX.length()));
            FullHttpResponse response = answer == null
                    ? text(HttpResponseStatus.NOT_FOUND, "{\"error\":\"no such challenge\"}")
                    : text(HttpResponseStatus.OK, answer);
            if (answer != null) {
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
            }
            send(ctx, keepAlive, response);
            return;
        }
        String host = hostWithoutPort(request.headers().get(HttpHeaderNames.HOST));
        if (host == null || !uri.startsWith("/")) {
            send(ctx, keepAlive, text(HttpResponseStatus.BAD_REQUEST,
                    "{\"error\":\"this port redirects to HTTPS and needs a Host header\"}"));
            return;
        }
        int port = httpsPort.getAsInt();
        FullHttpResponse redirect = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.PERMANENT_REDIRECT, Unpooled.EMPTY_BUFFER);
        redirect.headers()
                .set(HttpHeaderNames.LOCATION, "https://" + host + (port == 443 ? "" : ":" + port) + uri)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        send(ctx, keepAlive, redirect);
    }

    /** The host of a Host header, without its port; null when absent or not a plain host name or address. */
    static String hostWithoutPort(String hostHeader) {
        if (hostHeader == null || hostHeader.isEmpty()) {
            return null;
        }
        String host = hostHeader;
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            host = end < 0 ? null : host.substring(0, end + 1);
        } else {
            int colon = host.indexOf(':');
            host = colon < 0 ? host : host.substring(0, colon);
        }
        if (host == null || host.isEmpty()) {
            return null;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']')) {
                return null;
            }
        }
        return host;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        return response;
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
        if (keepAlive) {
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
