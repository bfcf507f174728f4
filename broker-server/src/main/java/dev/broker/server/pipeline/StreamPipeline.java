package dev.broker.server.pipeline;

import dev.broker.server.http.ExchangeRecorder;
import dev.broker.server.http2.Http2IdleTimeout;
import dev.broker.server.http2.Http2SseEncoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * The pipeline's other shape: a request's channel turned into an unframed stream of shared buffers once its
 * response head is written — as Netty's websocket handshake swaps its HTTP handlers out.
 */
public final class StreamPipeline {

    private StreamPipeline() {
    }

    /**
     * Reshapes the pipeline of {@code channel}, whose response head was just written: {@code streamEnd} (which
     * takes whatever the client still sends) goes before the exception handler, and {@linkplain
     * HandlerNames#REQUEST_ONLY the request handlers} leave. Over HTTP/1.1 the buffers written then go to the socket
     * as they are. On an HTTP/2 stream the codec gives way to {@link Http2SseEncoder}, which wraps them in DATA
     * frames, and the connection is not closed for idleness while the stream lives; the connection's other streams
     * carry on. Call on the channel's event loop.
     */
    public static void install(Channel channel, ChannelHandler streamEnd) {
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addBefore(HandlerNames.EXCEPTIONS, HandlerNames.SSE_STREAM, streamEnd);
        if (channel instanceof Http2StreamChannel) {
            pipeline.replace(HandlerNames.HTTP_CODEC, HandlerNames.SSE_H2_ENCODER, Http2SseEncoder.INSTANCE);
            Http2IdleTimeout.holdOpen(channel);
        }
        for (String name : HandlerNames.REQUEST_ONLY) {
            if (pipeline.get(name) != null) {
                pipeline.remove(name);
            }
        }
        // Stays only to follow the stream for the access log.
        if (pipeline.get(HandlerNames.EXCHANGES) instanceof ExchangeRecorder recorder && !recorder.followsStream()) {
            pipeline.remove(HandlerNames.EXCHANGES);
        }
    }
}
