package dev.broker.server.api;

import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.StorageOverloadedException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletionException;

/** Answers the endpoints share: the 500 for a failed operation, the 503 for an overloaded store. */
public final class Replies {

    private static final System.Logger LOG = System.getLogger(Replies.class.getName());

    private Replies() {
    }

    /** Answers 500 for a storage (or other) failure, after logging it once. */
    public static void internalError(ChannelHandlerContext ctx, ResponseSlot slot, String operation, Throwable failure) {
        LOG.log(Level.ERROR, operation + " failed", unwrap(failure));
        HttpResponses.error(ctx, slot, HttpResponseStatus.INTERNAL_SERVER_ERROR, operation + " failed");
    }

    /**
     * Answers a failed operation: {@code 503} with {@code Retry-After} when the store is only overloaded (nothing
     * was stored; the client should retry), {@code 500} otherwise.
     */
    static void failed(ChannelHandlerContext ctx, ResponseSlot slot, String operation, Throwable failure) {
        if (unwrap(failure) instanceof StorageOverloadedException) {
            FullHttpResponse response = HttpResponses.errorResponse(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                    operation + " refused: the server is overloaded, retry shortly");
            response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            HttpResponses.send(ctx, slot, response);
        } else {
            internalError(ctx, slot, operation, failure);
        }
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}
