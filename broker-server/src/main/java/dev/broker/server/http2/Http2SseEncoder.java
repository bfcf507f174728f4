package dev.broker.server.http2;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import java.util.List;

/**
 * An SSE stream over HTTP/2 in place of the stream's HTTP codec: wraps each shared event buffer (the same bytes
 * every subscriber gets) in a DATA frame, without copying.
 */
@Sharable
public final class Http2SseEncoder extends MessageToMessageEncoder<ByteBuf> {

    public static final Http2SseEncoder INSTANCE = new Http2SseEncoder();

    private Http2SseEncoder() {
        super(ByteBuf.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        out.add(new DefaultHttp2DataFrame(frame.retain()));
    }
}
