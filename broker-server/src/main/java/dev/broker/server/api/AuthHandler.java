package dev.broker.server.api;

import dev.broker.server.auth.AuthFailures;
import dev.broker.server.auth.AuthenticationException;
import dev.broker.server.auth.Authenticator;
import dev.broker.server.auth.Principal;
import dev.broker.server.auth.Secrets;
import dev.broker.server.auth.TooManyAttemptsException;
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
 * Authenticates requests to routes that need a user or the operator ({@link Route.Access}). For the operator's
 * routes: {@code 401} unless {@code Authorization: Bearer <admin token>} (compared in constant time), then, for a
 * route that acts in a tenant, {@code 400} without a {@code tenant} query parameter (the request goes on as the
 * operator in that tenant, {@link Principal#operatorIn}). For a user's route: answers {@code 401} itself (with
 * {@code WWW-Authenticate}), and for a Basic credential that would need hashing {@code 429} with
 * {@code Retry-After} when its username or client address failed too often lately, or {@code 503} with
 * {@code Retry-After: 1} when too many password checks wait already, and {@code 503}/{@code 500} when the user
 * cannot be read from the store; passes the request on, marked with its {@link Principal}, otherwise. A credential
 * that needs hashing, or a user not in the directory's cache, is checked off the event loop and the request
 * continues on the channel's own executor.
 */
@Sharable
public final class AuthHandler extends SimpleChannelInboundHandler<ApiRequest> {

    /** Longest tenant name accepted in {@code ?tenant=}, in characters: the same as {@code /create_user}'s. */
    public static final int MAX_TENANT_LENGTH = 1024;
    private static final String BEARER = "Bearer ";

    private final Authenticator authenticator;
    /** Null: the operator's routes answer 401 to everyone. */
    private final String adminToken;
    private final AuthFailures failures;

    public AuthHandler(Authenticator authenticator) {
        this(authenticator, null, new AuthFailures());
    }

    public AuthHandler(Authenticator authenticator, String adminToken) {
        this(authenticator, adminToken, new AuthFailures());
    }

    public AuthHandler(Authenticator authenticator, AuthFailures failures) {
        this(authenticator, null, failures);
    }

    /**
     * @param adminToken the operator's token for the admin routes; null to refuse them all
     * @param failures   where failed authentications are counted, by kind
     */
    public AuthHandler(Authenticator authenticator, String adminToken, AuthFailures failures) {
        super(ApiRequest.class, false);
        this.authenticator = authenticator;
        this.adminToken = adminToken;
        this.failures = failures;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ApiRequest request) {
        switch (request.route().access()) {
            case PUBLIC -> ctx.fireChannelRead(request);
            case USER -> authenticateUser(ctx, request);
            case ADMIN, ADMIN_AS_TENANT -> authenticateOperator(ctx, request);
        }
    }

    private void authenticateOperator(ChannelHandlerContext ctx, ApiRequest request) {
        String authorization = request.http().headers().get(HttpHeaderNames.AUTHORIZATION);
        boolean bearer = authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length());
        String given = bearer ? authorization.substring(BEARER.length()).trim() : null;
        if (adminToken == null || given == null || !Secrets.matches(given, adminToken)) {
            failures.record(AuthFailures.Kind.BAD_ADMIN_TOKEN);
            unauthorized(ctx, request, "wrong or missing admin token (Authorization: Bearer <admin token>)");
            return;
        }
        if (request.route().access() == Route.Access.ADMIN) {
            ctx.fireChannelRead(request);
            return;
        }
        String tenant = request.queryParameter("tenant");
        if (tenant == null || tenant.isEmpty() || tenant.length() > MAX_TENANT_LENGTH) {
            ResponseSlot slot = request.slot();
            request.release();
            HttpResponses.error(ctx, slot, HttpResponseStatus.BAD_REQUEST, "query parameter 'tenant' is required: "
                    + "a tenant name of 1 to " + MAX_TENANT_LENGTH + " characters");
            return;
        }
        ctx.fireChannelRead(request.authenticatedAs(Principal.operatorIn(tenant)));
    }

    private void authenticateUser(ChannelHandlerContext ctx, ApiRequest request) {
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

    private void proceed(ChannelHandlerContext ctx, ApiRequest request, Principal principal, Throwable failure) {
        if (failure == null) {
            ctx.fireChannelRead(request.authenticatedAs(principal));
            return;
        }
        ResponseSlot slot = request.slot();
        request.release();
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof TooManyAttemptsException) {
            failures.record(AuthFailures.Kind.THROTTLED);
        } else if (cause instanceof AuthenticationException refused) {
            failures.record(refused.kind());
        }
        if (Replies.passwordChecksRefused(ctx, slot, cause)) {
            return;
        }
        if (cause instanceof StorageException) {
            // The user could not be read: the credential may be fine, so not a 401 (a client would drop it).
            Replies.failed(ctx, slot, "authentication", cause);
            return;
        }
        String reason = cause instanceof AuthenticationException ? cause.getMessage() : "authentication failed";
        sendUnauthorized(ctx, slot, reason);
    }

    private static void unauthorized(ChannelHandlerContext ctx, ApiRequest request, String reason) {
        ResponseSlot slot = request.slot();
        request.release();
        sendUnauthorized(ctx, slot, reason);
    }

    private static void sendUnauthorized(ChannelHandlerContext ctx, ResponseSlot slot, String reason) {
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
