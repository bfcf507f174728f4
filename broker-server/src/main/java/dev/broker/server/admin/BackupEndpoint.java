package dev.broker.server.admin;

import dev.broker.server.api.ApiRequest;
import dev.broker.server.api.BadRequestException;
import dev.broker.server.api.Endpoint;
import dev.broker.server.api.Replies;
import dev.broker.server.api.StringFields;
import dev.broker.server.auth.Secrets;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.Storage;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.StorageUnavailableException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code POST /backup} with {@code {"admin_token"}}: writes a consistent copy of the store into a new directory
 * {@code broker-<UTC time>} under the backup directory while the server keeps serving, and answers
 * {@code 200 {"path"}} once it is complete. Answers itself: {@code 400} for a bad body, {@code 401} for a wrong
 * token, {@code 409} while another backup is under way (one at a time: a second copy would only slow the first),
 * {@code 501} when the storage backend has no online backup, {@code 503} when the store cannot write at the moment,
 * {@code 500} with the reason when the backup failed (nothing is left under the backup's name then).
 */
public final class BackupEndpoint implements Endpoint {

    private static final System.Logger LOG = System.getLogger(BackupEndpoint.class.getName());
    private static final String ADMIN_TOKEN = "admin_token";
    /** Sorts in time order; no colons, which some file systems and tools dislike. */
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("'broker-'yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final String adminToken;
    private final Storage storage;
    private final Path backupDirectory;
    private final Clock clock;
    private final AtomicBoolean running = new AtomicBoolean();

    public BackupEndpoint(String adminToken, Storage storage, Path backupDirectory, Clock clock) {
        this.adminToken = adminToken;
        this.storage = storage;
        this.backupDirectory = backupDirectory;
        this.clock = clock;
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        StringFields body = StringFields.parse(request.body(), Set.of(ADMIN_TOKEN));
        String token = body.required(ADMIN_TOKEN);
        ResponseSlot slot = request.slot();
        if (!Secrets.matches(token, adminToken)) {
            HttpResponses.error(ctx, slot, HttpResponseStatus.UNAUTHORIZED, "wrong admin_token");
            return;
        }
        if (!running.compareAndSet(false, true)) {
            HttpResponses.error(ctx, slot, HttpResponseStatus.CONFLICT,
                    "a backup is already under way; request another once it has answered");
            return;
        }
        Path target = backupDirectory.resolve(NAME.format(clock.instant()));
        storage.backup(target)
                .whenComplete((path, failure) -> running.set(false)) // even if the connection is gone
                .whenCompleteAsync((path, failure) -> {
                    if (failure == null) {
                        LOG.log(Level.INFO, "backup written to " + path);
                        HttpResponses.object(ctx, slot, g -> g.writeStringField("path", path.toString()));
                    } else {
                        failed(ctx, slot, failure);
                    }
                }, ctx.executor());
    }

    private static void failed(ChannelHandlerContext ctx, ResponseSlot slot, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof UnsupportedOperationException) {
            HttpResponses.error(ctx, slot, HttpResponseStatus.NOT_IMPLEMENTED, "backup: " + cause.getMessage());
        } else if (cause instanceof StorageUnavailableException || cause instanceof StorageOverloadedException) {
            Replies.failed(ctx, slot, "backup", cause);
        } else if (cause instanceof StorageException) {
            // The operator's own paths and the file system's reason: what they need to fix it.
            LOG.log(Level.ERROR, cause.getMessage());
            HttpResponses.error(ctx, slot, HttpResponseStatus.INTERNAL_SERVER_ERROR, cause.getMessage());
        } else {
            Replies.internalError(ctx, slot, "backup", cause);
        }
    }
}
