package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.http2.Http2SettingsDeadline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2SettingsFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.buffer.Unpooled;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/2 sides of the request deadline on {@link EmbeddedChannel}s with a frozen clock: a stream's body, and
 * the connection's preface and SETTINGS. (The HTTP/1.1 side is tested with real sockets in
 * {@link RequestDeadlineTest}.)
 */
class RequestDeadlineHandlerTest {

    private static EmbeddedChannel frozen(io.netty.channel.ChannelHandler... handlers) {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast(handlers);
        return channel;
    }

    @Test
    void aStreamWhoseBodyDoesNotArriveInTimeGetsA408() {
        EmbeddedChannel stream = frozen(RequestDeadline.forStream(2, TimeUnit.SECONDS));
        stream.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/insert"));
        stream.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer(new byte[] {'{'})));

        stream.advanceTimeBy(1_900, TimeUnit.MILLISECONDS);
        stream.runScheduledPendingTasks();
        assertNull(stream.readOutbound(), "not yet");

        stream.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        stream.runScheduledPendingTasks();
        FullHttpResponse response = stream.readOutbound();
        try {
            assertEquals(HttpResponseStatus.REQUEST_TIMEOUT, response.status());
            assertEquals("close", response.headers().get("connection"));
        } finally {
            response.release();
        }
        stream.finishAndReleaseAll();
    }

    @Test
    void aStreamWhoseBodyArrivedInTimeIsLeftAlone() {
        EmbeddedChannel stream = frozen(RequestDeadline.forStream(2, TimeUnit.SECONDS));
        stream.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/insert"));
        stream.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);

        stream.advanceTimeBy(10, TimeUnit.SECONDS);
        stream.runScheduledPendingTasks();

        assertNull(stream.readOutbound());
        assertTrue(stream.isOpen());
        stream.finishAndReleaseAll();
    }

    @Test
    void anHttp2ConnectionWithoutSettingsIsClosedAtTheDeadline() {
        EmbeddedChannel connection = frozen(new Http2SettingsDeadline(2, TimeUnit.SECONDS));

        connection.advanceTimeBy(2_100, TimeUnit.MILLISECONDS);
        connection.runScheduledPendingTasks();

        assertFalse(connection.isOpen());
    }

    @Test
    void theSettingsDeadlineLeavesWithTheFirstSettings() {
        EmbeddedChannel connection = frozen(new Http2SettingsDeadline(2, TimeUnit.SECONDS));
        connection.writeInbound(new DefaultHttp2SettingsFrame(Http2Settings.defaultSettings()));

        assertNull(connection.pipeline().get(Http2SettingsDeadline.class));
        assertTrue(connection.readInbound() instanceof Http2SettingsFrame, "the frame goes on");
        connection.advanceTimeBy(10, TimeUnit.SECONDS);
        connection.runScheduledPendingTasks();
        assertTrue(connection.isOpen());
        connection.finishAndReleaseAll();
    }
}
