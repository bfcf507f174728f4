package dev.broker.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Requests for handlers on an {@link EmbeddedChannel}, and their responses read back as {@link HttpResult}s (so the
 * assertions of {@link HttpAssertions} apply), each released on the way with a check that it was the last reference.
 */
public final class EmbeddedHttp {

    private EmbeddedHttp() {
    }

    /** An HTTP/1.1 request with an empty body. */
    public static FullHttpRequest request(HttpMethod method, String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.buffer(0));
    }

    /** An HTTP/1.1 request with a JSON body. */
    public static FullHttpRequest request(HttpMethod method, String uri, String json) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri,
                Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        request.headers().set("Content-Type", "application/json")
                .setInt("Content-Length", request.content().readableBytes());
        return request;
    }

    /** The next response written on the channel, released; fails when there is none. */
    public static HttpResult response(EmbeddedChannel channel) {
        Object written = channel.readOutbound();
        assertNotNull(written, "no response written");
        FullHttpResponse response = assertInstanceOf(FullHttpResponse.class, written);
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (Map.Entry<String, String> header : response.headers()) {
            headers.computeIfAbsent(header.getKey(), name -> new ArrayList<>()).add(header.getValue());
        }
        String body = response.content().toString(StandardCharsets.UTF_8);
        assertEquals(response.content().readableBytes(), response.headers().getInt("Content-Length", -1),
                "Content-Length");
        assertTrue(response.release(), "the response's last reference was the channel's");
        return new HttpResult(response.status().code(), HttpHeaders.of(headers, (name, value) -> true), body);
    }

    /** Every response written on the channel so far, released, in order. */
    public static List<HttpResult> responses(EmbeddedChannel channel) {
        List<HttpResult> results = new ArrayList<>();
        while (!channel.outboundMessages().isEmpty()) {
            results.add(response(channel));
        }
        return results;
    }
}
