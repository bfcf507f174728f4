package dev.broker.server.admin;

import dev.broker.server.auth.BasicCredentialCache;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.sse.SseHub;
import dev.broker.storage.User;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Follows the store's change feed of users ({@code UserStore.changes()}), which carries the changes made through
 * every server sharing the store: each stored change updates this server's {@link UserDirectory} (so the next
 * request, JWT or Basic, sees it), forgets the user's cached Basic credentials and, for a revocation, closes the
 * user's open streams. The admin endpoints apply their own changes the same way before they answer, so that the
 * server that made a change never lags behind it; the feed then repeats it, which changes nothing.
 *
 * <p>Subscribe it before the directory is loaded and {@link #attach} the directory once loaded: a change that arrives
 * in between is held and applied then, so none is missed. The directory is updated before the streams are closed,
 * which lets the hub refuse a stream of a user revoked while the stream was on its way ({@code SseHub}).
 */
public final class UserChanges implements Consumer<User> {

    private final BasicCredentialCache basicCache;
    /** Where the slower part of a change runs: off the storage thread that calls {@link #accept}. */
    private final Executor executor;
    private UserDirectory directory;
    private SseHub hub;
    /** Changes that arrived before the directory was attached (only during start-up). */
    private List<User> early = new ArrayList<>();

    public UserChanges(BasicCredentialCache basicCache, Executor executor) {
        this.basicCache = basicCache;
        this.executor = executor;
    }

    /**
     * Starts applying changes to {@code loaded} and {@code streams}, first those that arrived since the
     * subscription.
     */
    public synchronized void attach(UserDirectory loaded, SseHub streams) {
        this.directory = loaded;
        this.hub = streams;
        for (User user : early) {
            loaded.put(user);
        }
        for (User user : early) {
            forgetAndClose(user);
        }
        early = null;
    }

    /** A durable change from the feed, on a storage thread: quick, never blocks. */
    @Override
    public void accept(User user) {
        synchronized (this) {
            if (directory == null) {
                early.add(user);
                return;
            }
            // At once, on the feed's thread and in its order: authentication reads the directory on every request.
            directory.put(user);
        }
        try {
            // Forgetting scans the credential cache: not on the storage thread.
            executor.execute(() -> forgetAndClose(user));
        } catch (RejectedExecutionException shuttingDown) {
            // the server is closing its streams anyway; the directory already refuses the user
        }
    }

    /** Applies a change this server made and stored, before it is answered. */
    void applyLocal(User user) {
        synchronized (this) {
            if (directory != null) {
                directory.put(user);
            }
        }
        forgetAndClose(user);
    }

    private void forgetAndClose(User user) {
        basicCache.invalidate(user.username());
        if (user.revoked()) {
            hub.closeStreamsOf(user.tenant(), user.username());
        }
    }
}
