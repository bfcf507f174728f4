package dev.broker.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.broker.server.api.ApiRequest;
import dev.broker.server.api.BadRequestException;
import dev.broker.server.api.Replies;
import dev.broker.server.api.StringFields;
import dev.broker.server.auth.AuthFailures;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.Secrets;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.Json;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.User;
import dev.broker.storage.UserStore;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;

/**
 * The user-management endpoints, gated by the admin token in the body: create, revoke, unrevoke, list, get.
 * Changes are durable before they are answered, then applied through {@link UserChanges} before the answer leaves
 * (the {@link UserDirectory}'s cache, so the next request already sees them; revoking also forgets the user's cached
 * Basic credentials and closes their open streams), as the store's change feed applies them on every other server
 * sharing the store.
 */
public final class AdminEndpoints {

    /** Longest username or tenant name accepted, in characters. */
    public static final int MAX_NAME_LENGTH = 1024;

    private static final String ADMIN_TOKEN = "admin_token";
    private static final String USERNAME = "username";
    private static final String PASSWORD = "password";
    private static final String TENANT_NAME = "tenant_name";
    private static final String LIMIT = "limit";
    private static final String AFTER = "after";

    /** Largest page of {@code list_users}, and its size when only {@code after} is given. */
    public static final int MAX_LIST_LIMIT = 10_000;

    private final String adminToken;
    private final UserStore store;
    private final UserDirectory directory;
    private final PasswordHasher hasher;
    private final UserChanges changes;
    private final AuthFailures failures;
    /** Users revoked since the start: the operator log reports how many, never who. */
    private final LongAdder revocations = new LongAdder();

    public AdminEndpoints(String adminToken, UserStore store, UserDirectory directory, PasswordHasher hasher,
                          UserChanges changes) {
        this(adminToken, store, directory, hasher, changes, new AuthFailures());
    }

    /** @param failures where wrong admin tokens are counted */
    public AdminEndpoints(String adminToken, UserStore store, UserDirectory directory, PasswordHasher hasher,
                          UserChanges changes, AuthFailures failures) {
        this.failures = failures;
        this.adminToken = adminToken;
        this.store = store;
        this.directory = directory;
        this.hasher = hasher;
        this.changes = changes;
    }

    /** Revocations answered 200 since the start (repeated ones included: revoking is idempotent). */
    public long revocations() {
        return revocations.sum();
    }

    public void createUser(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        StringFields body = StringFields.parse(request.body(), Set.of(USERNAME, PASSWORD, ADMIN_TOKEN, TENANT_NAME));
        String username = body.requiredNonEmpty(USERNAME);
        String password = body.requiredNonEmpty(PASSWORD);
        String token = body.requiredNonEmpty(ADMIN_TOKEN);
        String tenant = body.requiredNonEmpty(TENANT_NAME);
        requireShort(USERNAME, username);
        requireShort(TENANT_NAME, tenant);
        ResponseSlot slot = request.slot();
        if (!adminTokenAccepted(ctx, slot, token)) {
            return;
        }
        Optional<User> cached = directory.cached(username);
        if (cached != null && cached.isPresent()) {
            // Answer at once, without spending a hash (users are never deleted). The cache is no authority on a
            // name being free: the store checks that atomically below.
            usernameTaken(ctx, slot);
            return;
        }
        String id = UUID.randomUUID().toString();
        hasher.hashAsync(password)
                .thenCompose(hash -> {
                    User user = new User(id, username, tenant, hash, false);
                    return store.create(user).thenApply(created -> created ? user : null);
                })
                .whenCompleteAsync((user, failure) -> {
                    if (failure != null) {
                        Replies.failed(ctx, slot, "create_user", failure); // 503 when hashing or the store is busy
                    } else if (user == null) {
                        usernameTaken(ctx, slot);
                    } else {
                        changes.applyLocal(user);
                        HttpResponses.object(ctx, slot, g -> g.writeStringField("id", id));
                    }
                }, ctx.executor());
    }

    public void revokeUser(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        setRevoked(ctx, request, true);
    }

    public void unrevokeUser(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        setRevoked(ctx, request, false);
    }

    private void setRevoked(ChannelHandlerContext ctx, ApiRequest request, boolean revoked) throws BadRequestException {
        StringFields body = StringFields.parse(request.body(), Set.of(ADMIN_TOKEN, USERNAME));
        String token = body.required(ADMIN_TOKEN);
        String username = body.required(USERNAME);
        ResponseSlot slot = request.slot();
        if (!adminTokenAccepted(ctx, slot, token)) {
            return;
        }
        String operation = revoked ? "revoke_user" : "unrevoke_user";
        store.setRevoked(username, revoked).whenCompleteAsync((updated, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, operation, failure);
            } else if (updated.isEmpty()) {
                HttpResponses.error(ctx, slot, HttpResponseStatus.NOT_FOUND, "unknown username");
            } else {
                if (revoked) {
                    revocations.increment();
                }
                changes.applyLocal(updated.get());
                HttpResponses.object(ctx, slot, g -> { });
            }
        }, ctx.executor());
    }

    /**
     * Without {@code limit} and {@code after}: every user, streamed from the store page by page
     * ({@link UserListStream}). With either: one page of at most {@code limit} users (default and largest
     * {@link #MAX_LIST_LIMIT}) whose usernames come after {@code after}, in username order, built whole.
     */
    public void listUsers(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        StringFields body = StringFields.parse(request.body(), Set.of(ADMIN_TOKEN, AFTER), Set.of(LIMIT));
        String token = body.required(ADMIN_TOKEN);
        String after = body.optional(AFTER);
        Long limit = body.optionalInteger(LIMIT);
        if (limit != null && (limit < 1 || limit > MAX_LIST_LIMIT)) {
            throw new BadRequestException("field 'limit' must be 1.." + MAX_LIST_LIMIT);
        }
        ResponseSlot slot = request.slot();
        if (!adminTokenAccepted(ctx, slot, token)) {
            return;
        }
        if (limit == null && after == null) {
            UserListStream.start(ctx, slot, store, HttpVersion.HTTP_1_0.equals(request.http().protocolVersion()));
            return;
        }
        int pageSize = limit == null ? MAX_LIST_LIMIT : limit.intValue();
        store.list(after, pageSize).whenCompleteAsync((users, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, "list_users", failure);
                return;
            }
            HttpResponses.json(ctx, slot, HttpResponseStatus.OK, Json.write(ctx.alloc(), g -> {
                g.writeStartArray();
                for (User user : users) {
                    writeUser(g, user);
                }
                g.writeEndArray();
            }));
        }, ctx.executor());
    }

    public void getUser(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        StringFields body = StringFields.parse(request.body(), Set.of(ADMIN_TOKEN, USERNAME));
        String token = body.required(ADMIN_TOKEN);
        String username = body.required(USERNAME);
        ResponseSlot slot = request.slot();
        if (!adminTokenAccepted(ctx, slot, token)) {
            return;
        }
        store.find(username).whenCompleteAsync((user, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, "get_user", failure);
            } else if (user.isEmpty()) {
                HttpResponses.error(ctx, slot, HttpResponseStatus.NOT_FOUND, "unknown username");
            } else {
                writeUser(ctx, slot, user.get());
            }
        }, ctx.executor());
    }

    /** Whether {@code given} is the admin token (compared in constant time); answers 401 when it is not. */
    private boolean adminTokenAccepted(ChannelHandlerContext ctx, ResponseSlot slot, String given) {
        if (Secrets.matches(given, adminToken)) {
            return true;
        }
        failures.record(AuthFailures.Kind.BAD_ADMIN_TOKEN);
        HttpResponses.error(ctx, slot, HttpResponseStatus.UNAUTHORIZED, "wrong admin_token");
        return false;
    }

    private static void usernameTaken(ChannelHandlerContext ctx, ResponseSlot slot) {
        HttpResponses.error(ctx, slot, HttpResponseStatus.CONFLICT, "username already taken");
    }

    /** {@code {"id", "username", "tenant_name", "revoked", "password": "***"}}: the password hash never leaves. */
    static void writeUser(JsonGenerator g, User user) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", user.id());
        g.writeStringField("username", user.username());
        g.writeStringField("tenant_name", user.tenant());
        g.writeBooleanField("revoked", user.revoked());
        g.writeStringField("password", "***");
        g.writeEndObject();
    }

    private static void writeUser(ChannelHandlerContext ctx, ResponseSlot slot, User user) {
        HttpResponses.json(ctx, slot, HttpResponseStatus.OK, Json.write(ctx.alloc(), g -> writeUser(g, user)));
    }

    private static void requireShort(String field, String value) throws BadRequestException {
        if (value.length() > MAX_NAME_LENGTH) {
            throw new BadRequestException("field '" + field + "' is longer than " + MAX_NAME_LENGTH + " characters");
        }
    }
}
