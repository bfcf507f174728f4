package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExchangeRecorderTest {

    private static final Map<String, String> ROUTES = Map.of("/sse", "SSE", "/insert", "INSERT");

    /** Records what it is told. */
    private static final class Recording implements ExchangeListener {
        final List<String> answered = new ArrayList<>();
        final List<Exchange> completed = new ArrayList<>();
        final boolean wants;

        Recording(boolean wants) {
            this.wants = wants;
        }

        @Override
        public void answered(String route, int status) {
            answered.add(route + " " + status);
        }

        @Override
        public boolean wantsExchanges() {
            return wants;
        }

        @Override
        public void completed(Exchange exchange) {
            completed.add(exchange);
        }
    }

    @Test
    void reportsAnAnswerWithTheRouteAndNeverTheTarget() {
        Recording listener = new Recording(true);
        EmbeddedChannel channel = new EmbeddedChannel(new ExchangeRecorder(listener, ROUTES));
        SlottedRequest request = request(0, HttpMethod.POST, "/insert?access_token=secret.jwt.value");

        channel.writeInbound(request);
        assertSame(request, channel.readInbound());
        request.release();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer("{\"id\":\"1\"}", StandardCharsets.UTF_8));
        SlottedResponse slotted = new SlottedResponse(request.slot(), response);
        channel.writeOutbound(slotted);

        assertSame(slotted, channel.readOutbound(), "passed on as it is");
        assertEquals(1, response.refCnt(), "neither retained nor released");
        response.release();
        assertEquals(List.of("INSERT 200"), listener.answered);
        Exchange exchange = listener.completed.get(0);
        assertEquals("/insert", exchange.path());
        assertEquals("POST", exchange.method());
        assertEquals(10, exchange.bytes());
        assertFalse(exchange.toString().contains("secret"), exchange.toString());
        assertFalse(channel.finish());
    }

    @Test
    void countsAnUnknownPathUnderNoRoute() {
        Recording listener = new Recording(true);
        EmbeddedChannel channel = new EmbeddedChannel(new ExchangeRecorder(listener, ROUTES));
        SlottedRequest request = request(0, HttpMethod.GET, "/%2e%2e/etc/passwd");
        channel.writeInbound(request);
        ((SlottedRequest) channel.readInbound()).release();

        FullHttpResponse notFound = HttpResponses.errorResponse(channel.alloc(), HttpResponseStatus.NOT_FOUND, "not found");
        channel.writeOutbound(new SlottedResponse(request.slot(), notFound));
        ((SlottedResponse) channel.readOutbound()).release();

        assertEquals(List.of("none 404"), listener.answered);
        assertNull(listener.completed.get(0).path());
        assertEquals(0, notFound.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void followsAStreamToItsEndOnlyForTheAccessLog() {
        for (boolean accessLog : new boolean[] {true, false}) {
            Recording listener = new Recording(accessLog);
            ExchangeRecorder recorder = new ExchangeRecorder(listener, ROUTES);
            EmbeddedChannel channel = new EmbeddedChannel(recorder);
            SlottedRequest request = request(0, HttpMethod.GET, "/sse?last_event_id=3");
            channel.writeInbound(request);
            ((SlottedRequest) channel.readInbound()).release();

            channel.writeOutbound(new SlottedResponse(request.slot(),
                    new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK)));
            ((SlottedResponse) channel.readOutbound()).release();
            assertEquals(accessLog, recorder.followsStream());
            ByteBuf frames = Unpooled.copiedBuffer("id:4\nevent:e\ndata:1\n\n", StandardCharsets.UTF_8);
            channel.writeOutbound(frames.retainedDuplicate(), frames.retainedDuplicate());
            ((ByteBuf) channel.readOutbound()).release();
            ((ByteBuf) channel.readOutbound()).release();
            channel.close();

            assertEquals(List.of("SSE 200"), listener.answered);
            if (accessLog) {
                Exchange stream = listener.completed.get(0);
                assertTrue(stream.stream());
                assertEquals(2L * frames.readableBytes(), stream.bytes());
                assertEquals("/sse", stream.path());
            } else {
                assertTrue(listener.completed.isEmpty());
            }
            assertEquals(1, frames.refCnt());
            frames.release();
        }
    }

    private static SlottedRequest request(long ordinal, HttpMethod method, String uri) {
        FullHttpRequest http = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        return new SlottedRequest(http, new ResponseSlot(ordinal, true));
    }
}
