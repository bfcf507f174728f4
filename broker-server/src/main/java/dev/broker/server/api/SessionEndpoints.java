package dev.broker.server.api;

import dev.broker.server.auth.JwtTokens;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.Principal;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.User;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Set;

/** {@code POST /login} (password to JWT) and {@code GET /verify} (who is this credential?). */
public final class SessionEndpoints {

    private final UserDirectory directory;
    private final PasswordHasher hasher;
    private final JwtTokens tokens;

    public SessionEndpoints(UserDirectory directory, PasswordHasher hasher, JwtTokens tokens) {
        this.directory = directory;
        this.hasher = hasher;
        this.tokens = tokens;
    }

    public void login(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        StringFields body = StringFields.parse(request.body(), Set.of("username", "password"));
        String username = body.required("username");
        String password = body.required("password");
        ResponseSlot slot = request.slot();
        User known = directory.get(username);
        hasher.verifyAsync(password, known == null ? null : known.passwordHash()).whenCompleteAsync((ok, failure) -> {
            if (failure != null) {
                Replies.internalError(ctx, slot, "login", failure);
                return;
            }
            User user = directory.get(username); // read again: a revoke may have landed while hashing
            if (!ok || user == null) {
                HttpResponses.error(ctx, slot, HttpResponseStatus.UNAUTHORIZED, "wrong username or password");
            } else if (user.revoked()) {
                HttpResponses.error(ctx, slot, HttpResponseStatus.UNAUTHORIZED, "user is revoked");
            } else {
                String jwt = tokens.issue(user.username(), user.tenant());
                HttpResponses.object(ctx, slot, g -> g.writeStringField("jwt", jwt));
            }
        }, ctx.executor());
    }

    public void verify(ChannelHandlerContext ctx, ApiRequest request) {
        Principal caller = request.principal();
        HttpResponses.object(ctx, request.slot(), g -> {
            g.writeStringField("username", caller.username());
            g.writeStringField("tenant_name", caller.tenant());
        });
    }
}
