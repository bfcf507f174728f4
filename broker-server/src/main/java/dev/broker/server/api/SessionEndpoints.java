package dev.broker.server.api;

import dev.broker.server.auth.AuthFailures;
import dev.broker.server.auth.AuthThrottle;
import dev.broker.server.auth.JwtTokens;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.Principal;
import dev.broker.server.auth.TooManyAttemptsException;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.http.ClientAddress;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.User;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /login} (password to JWT) and {@code GET /verify} (who is this credential?). A login whose username or
 * client address failed too often lately is a {@code 429} with {@code Retry-After}, and one that finds the hashing
 * queue full a {@code 503} with {@code Retry-After: 1}, both without hashing; only wrong passwords count as failures.
 */
public final class SessionEndpoints {

    private static final Optional<User> NO_MATCH = Optional.empty();

    private final UserDirectory directory;
    private final PasswordHasher hasher;
    private final JwtTokens tokens;
    private final AuthFailures failures;
    private final AuthThrottle throttle;

    public SessionEndpoints(UserDirectory directory, PasswordHasher hasher, JwtTokens tokens, AuthThrottle throttle) {
        this(directory, hasher, tokens, throttle, new AuthFailures());
    }

    /** @param failures where failed logins are counted, by kind */
    public SessionEndpoints(UserDirectory directory, PasswordHasher hasher, JwtTokens tokens, AuthThrottle throttle,
                            AuthFailures failures) {
        this.directory = directory;
        this.hasher = hasher;
        this.tokens = tokens;
        this.throttle = throttle;
        this.failures = failures;
    }

    public void login(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        StringFields body = StringFields.parse(request.body(), Set.of("username", "password"));
        String username = body.required("username");
        String password = body.required("password");
        ResponseSlot slot = request.slot();
        AuthThrottle.Attempt attempt;
        try {
            attempt = throttle.begin(username, ClientAddress.of(ctx.channel()));
        } catch (TooManyAttemptsException e) {
            failures.record(AuthFailures.Kind.THROTTLED);
            Replies.passwordChecksRefused(ctx, slot, e);
            return;
        }
        directory.find(username)
                .thenCompose(known -> hasher.verifyAsync(password, known.map(User::passwordHash).orElse(null),
                        attempt.lane()))
                // Read again (from the cache, as a rule): a revoke may have landed while hashing.
                .thenCompose(ok -> ok ? directory.find(username) : CompletableFuture.completedFuture(NO_MATCH))
                .whenCompleteAsync((user, failure) -> answer(ctx, slot, attempt, user, failure), ctx.executor());
    }

    /** @param match the user whose password matched, or empty */
    private void answer(ChannelHandlerContext ctx, ResponseSlot slot, AuthThrottle.Attempt attempt,
                        Optional<User> match, Throwable failure) {
        if (failure != null) {
            attempt.abandoned();
            Replies.failed(ctx, slot, "login", failure);
            return;
        }
        User user = match.orElse(null);
        if (user != null) {
            attempt.succeeded(); // the password was right, even for a revoked user
        } else {
            attempt.failed();
        }
        if (user == null) {
            failures.record(AuthFailures.Kind.BAD_PASSWORD);
            HttpResponses.error(ctx, slot, HttpResponseStatus.UNAUTHORIZED, "wrong username or password");
        } else if (user.revoked()) {
            failures.record(AuthFailures.Kind.REVOKED);
            HttpResponses.error(ctx, slot, HttpResponseStatus.UNAUTHORIZED, "user is revoked");
        } else {
            String jwt = tokens.issue(user.username(), user.tenant());
            HttpResponses.object(ctx, slot, g -> g.writeStringField("jwt", jwt));
        }
    }

    public void verify(ChannelHandlerContext ctx, ApiRequest request) {
        Principal caller = request.principal();
        HttpResponses.object(ctx, request.slot(), g -> {
            g.writeStringField("username", caller.username());
            g.writeStringField("tenant_name", caller.tenant());
        });
    }
}
