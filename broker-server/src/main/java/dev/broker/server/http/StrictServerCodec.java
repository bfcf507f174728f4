package dev.broker.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;

/**
 * The HTTP/1.1 server codec, as Netty's {@code HttpServerCodec} with one rule more: a request head with a folded
 * header line (obs-fold, a line starting with a space or tab, RFC 9112 §5.2) is malformed. Netty's decoder joins
 * such a line to the header before it, so a folded {@code Authorization} would be read as one value while a proxy in
 * front may have read it otherwise; RFC 9112 allows either rejecting or joining, and Broker rejects (400, close).
 * The decoder sees each head's bytes before Netty's decoder reads them, stopping at the blank line that ends the
 * head, so bodies are never scanned; a failure marks the request, which the router answers.
 *
 * <p>Like {@code HttpServerCodec}, the encoder sends no body for responses to {@code HEAD}.
 */
public final class StrictServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    /** The methods of requests not yet answered, oldest first (responses leave in request order). */
    private final Queue<HttpMethod> methods = new ArrayDeque<>();

    public StrictServerCodec(HttpDecoderConfig config) {
        init(new FoldRejectingDecoder(config), new HeadAwareEncoder());
    }

    private final class FoldRejectingDecoder extends HttpRequestDecoder {
        /** Whether the next bytes belong to a request head (true from the start and after each message's end). */
        private boolean inHead = true;
        /** Bytes at the front of the input already scanned (the decoder may leave a partial line unread). */
        private int scanned;
        private boolean requestLineStarted;
        private boolean afterRequestLine;
        private boolean atLineStart;
        private boolean lineEmpty;
        private boolean folded;
        private final ByteProcessor headScanner = this::scanByte;

        FoldRejectingDecoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (inHead) {
                scanHead(in);
            }
            int before = in.readerIndex();
            int outBefore = out.size();
            super.decode(ctx, in, out);
            scanned = Math.max(0, scanned - (in.readerIndex() - before));
            for (int i = outBefore; i < out.size(); i++) {
                Object message = out.get(i);
                if (message instanceof HttpRequest request) {
                    methods.add(request.method());
                    if (folded && request.decoderResult().isSuccess()) {
                        request.setDecoderResult(DecoderResult.failure(
                                new IllegalArgumentException("obsolete line folding in a header")));
                    }
                    inHead = false;
                }
                if (message instanceof LastHttpContent) {
                    startHead();
                }
            }
        }

        private void startHead() {
            inHead = true;
            scanned = 0;
            requestLineStarted = false;
            afterRequestLine = false;
            atLineStart = false;
            lineEmpty = false;
            folded = false;
        }

        /**
         * Scans the unscanned head bytes, up to the blank line that ends the head. Through {@code forEachByte}: one
         * bounds and liveness check for the whole range rather than one per byte ({@code getByte}), which made this
         * scan a few percent of the server's CPU on small requests.
         */
        private void scanHead(ByteBuf in) {
            int from = in.readerIndex() + scanned;
            int length = in.writerIndex() - from;
            if (length > 0) {
                in.forEachByte(from, length, headScanner);
            }
        }

        /** Takes the next byte of the head; false once it is the blank line's end (the head is over). */
        private boolean scanByte(byte b) {
            scanned++;
            if (!requestLineStarted) {
                // The decoder skips control characters and whitespace before the request line.
                requestLineStarted = b > ' ' && b != 0x7f;
                return true;
            }
            if (b == '\n') {
                if (afterRequestLine && lineEmpty) {
                    inHead = false; // the head is over; what follows is a body or the next request
                    return false;
                }
                afterRequestLine = true;
                atLineStart = true;
                lineEmpty = true;
                return true;
            }
            if (atLineStart && afterRequestLine && (b == ' ' || b == '\t')) {
                folded = true;
            }
            atLineStart = false;
            if (b != '\r') {
                lineEmpty = false;
            }
            return true;
        }
    }

    private final class HeadAwareEncoder extends HttpResponseEncoder {
        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse response) {
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                // A 100 Continue is not the request's answer: the final response follows.
                return super.isContentAlwaysEmpty(response);
            }
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(response);
        }
    }
}
