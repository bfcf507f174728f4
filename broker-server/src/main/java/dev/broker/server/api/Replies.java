package dev.broker.server.api;

import dev.broker.server.auth.HashingBusyException;
import dev.broker.server.auth.TooManyAttemptsException;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletionException;

/**
 * Answers the endpoints share: the 500 for a failed operation, the 503 for an overloaded or unwritable store, the
 * 429 and 503 of password checks refused before hashing.
 */
public final class Replies {

    private static final System.Logger LOG = System.getLogger(Replies.class.getName());

    private Replies() {
    }

    /** Answers 500 for a storage (or other) failure, after logging it once. */
    public static void internalError(ChannelHandlerContext ctx, ResponseSlot slot, String operation, Throwable failure) {
        LOG.log(Level.ERROR, operation + " failed", unwrap(failure));
        HttpResponses.error(ctx, slot, HttpResponseStatus.INTERNAL_SERVER_ERROR, operation + " failed");
    }

    /** Seconds a client should wait before retrying while the store cannot write (it retries every 2 s at most). */
    static final String UNAVAILABLE_RETRY_AFTER_SECONDS = "5";

    /**
     * Answers a failed operation: {@code 503} with {@code Retry-After} when the store or the hashing queue is only
     * overloaded, or the store cannot write at the moment and is recovering (the storage logged that once; the client
     * should retry), {@code 500} otherwise.
     */
    public static void failed(ChannelHandlerContext ctx, ResponseSlot slot, String operation, Throwable failure) {
        if (passwordChecksRefused(ctx, slot, failure)) {
            return;
        }
        Throwable cause = unwrap(failure);
        if (cause instanceof StorageOverloadedException) {
            unavailable(ctx, slot, operation + " refused: the server is overloaded, retry shortly", "1");
        } else if (cause instanceof StorageUnavailableException) {
            unavailable(ctx, slot, operation + " failed: storage cannot write at the moment, retry later",
                    UNAVAILABLE_RETRY_AFTER_SECONDS);
        } else {
            internalError(ctx, slot, operation, failure);
        }
    }

    /** Answers {@code 503} with {@code Retry-After} (seconds) and the message. */
    static void unavailable(ChannelHandlerContext ctx, ResponseSlot slot, String message, String retryAfter) {
        FullHttpResponse response = HttpResponses.errorResponse(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                message);
        response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        HttpResponses.send(ctx, slot, response);
    }

    /**
     * Answers a password check that was refused before hashing, and returns true; false for any other failure.
     * {@code 429} with {@code Retry-After} for too many failures of the username or address lately; {@code 503} with
     * {@code Retry-After: 1} when the hashing queue is full.
     */
    static boolean passwordChecksRefused(ChannelHandlerContext ctx, ResponseSlot slot, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof TooManyAttemptsException limited) {
            FullHttpResponse response = HttpResponses.errorResponse(ctx.alloc(), HttpResponseStatus.TOO_MANY_REQUESTS,
                    limited.getMessage());
            response.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(limited.retryAfterSeconds()));
            HttpResponses.send(ctx, slot, response);
            return true;
        }
        if (cause instanceof HashingBusyException busy) {
            unavailable(ctx, slot, busy.getMessage(), "1");
            return true;
        }
        return false;
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}
