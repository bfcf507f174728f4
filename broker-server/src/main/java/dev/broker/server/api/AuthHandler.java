package dev.broker.server.api;

import dev.broker.server.auth.AuthenticationException;
import dev.broker.server.auth.Authenticator;
import dev.broker.server.auth.Principal;
import dev.broker.server.http.ClientAddress;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.StorageException;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Authenticates requests to routes that need a user. Answers {@code 401} itself (with
 * {@code WWW-Authenticate}), and for a Basic credential that would need hashing {@code 429} with
 * {@code Retry-After} when its username or client address failed too often lately, or {@code 503} with
 * {@code Retry-After: 1} when too many password checks wait already, and {@code 503}/{@code 500} when the user
 * cannot be read from the store; passes the request on, marked with its {@link Principal}, otherwise. A credential
 * that needs hashing, or a user not in the directory's cache, is checked off the event loop and the request
 * continues on the channel's own executor.
 */
@Sharable
public final class AuthHandler extends SimpleChannelInboundHandler<ApiRequest> {

    private final Authenticator authenticator;

    public AuthHandler(Authenticator authenticator) {
        super(ApiRequest.class, false);
        this.authenticator = authenticator;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ApiRequest request) {
        if (!request.route().authenticated()) {
            ctx.fireChannelRead(request);
            return;
        }
        String authorization = request.http().headers().get(HttpHeaderNames.AUTHORIZATION);
        String accessToken = request.route() == Route.SSE ? request.queryParameter("access_token") : null;
        CompletableFuture<Principal> result = authenticator.authenticate(authorization, accessToken,
                ClientAddress.of(ctx.channel()));
        if (result.isDone()) {
            // The common case (a JWT, a cached Basic credential): continue in place.
            Throwable failure = exceptionOf(result);
            proceed(ctx, request, failure == null ? result.join() : null, failure);
        } else {
            result.whenCompleteAsync((principal, failure) -> proceed(ctx, request, principal, failure), ctx.executor());
        }
    }

    private static void proceed(ChannelHandlerContext ctx, ApiRequest request, Principal principal, Throwable failure) {
        if (failure == null) {
            ctx.fireChannelRead(request.authenticatedAs(principal));
            return;
        }
        ResponseSlot slot = request.slot();
        request.release();
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (Replies.passwordChecksRefused(ctx, slot, cause)) {
            return;
        }
        if (cause instanceof StorageException) {
            // The user could not be read: the credential may be fine, so not a 401 (a client would drop it).
            Replies.failed(ctx, slot, "authentication", cause);
            return;
        }
        String reason = cause instanceof AuthenticationException ? cause.getMessage() : "authentication failed";
        FullHttpResponse response = HttpResponses.errorResponse(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED, reason);
        response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"broker\"");
        HttpResponses.send(ctx, slot, response);
    }

    private static Throwable exceptionOf(CompletableFuture<?> done) {
        if (!done.isCompletedExceptionally()) {
            return null;
        }
        try {
            done.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause();
        } catch (RuntimeException e) {
            return e;
        }
    }
}
