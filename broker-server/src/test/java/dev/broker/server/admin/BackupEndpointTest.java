package dev.broker.server.admin;

import static dev.broker.server.testing.EmbeddedHttp.request;
import static dev.broker.server.testing.EmbeddedHttp.response;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.api.ApiHandler;
import dev.broker.server.api.Endpoint;
import dev.broker.server.api.Route;
import dev.broker.server.api.RouteHandler;
import dev.broker.server.http.ExceptionHandler;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.RequestSequencer;
import dev.broker.server.testing.HttpResult;
import dev.broker.storage.EventFeed;
import dev.broker.storage.EventLog;
import dev.broker.storage.Storage;
import dev.broker.storage.StorageException;
import dev.broker.storage.StorageHealth;
import dev.broker.storage.UserStore;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code POST /backup} on its own: the token, one backup at a time, and the answers for each failure. */
class BackupEndpointTest {

    private static final String TOKEN = "admin-secret";
    private static final String BODY = "{\"admin_token\":\"" + TOKEN + "\"}";

    /** A store whose backups complete when the test says; or one that keeps the interface's default. */
    private static class HeldBackups implements Storage {
        final List<Path> targets = new ArrayList<>();
        final List<CompletableFuture<Path>> results = new ArrayList<>();

        @Override
        public CompletableFuture<Path> backup(Path target) {
            CompletableFuture<Path> result = new CompletableFuture<>();
            targets.add(target);
            results.add(result);
            return result;
        }

        @Override
        public UserStore users() {
            throw new UnsupportedOperationException();
        }

        @Override
        public EventLog events() {
            throw new UnsupportedOperationException();
        }

        @Override
        public EventFeed feed() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public StorageHealth health() {
            return StorageHealth.WRITABLE;
        }

        @Override
        public void close() {
        }
    }

    /** A backend without a backup of its own: the interface's default. */
    private static final class NoBackups extends HeldBackups {
        @Override
        public CompletableFuture<Path> backup(Path target) {
            return new Storage() {
                @Override
                public UserStore users() {
                    return null;
                }

                @Override
                public EventLog events() {
                    return null;
                }

                @Override
                public EventFeed feed() {
                    return null;
                }

                @Override
                public boolean isOpen() {
                    return true;
                }

                @Override
                public StorageHealth health() {
                    return StorageHealth.WRITABLE;
                }

                @Override
                public void close() {
                }
            }.backup(target);
        }
    }

    /** The status and the error's text (no CORS handler in this pipeline, so not {@code assertError}). */
    private static String assertError(int status, HttpResult result) {
        assertEquals(status, result.status(), result.body());
        return result.json().get("error").asText();
    }

    private final InFlightRequests inFlight = new InFlightRequests();
    private EmbeddedChannel channel;

    private BackupEndpoint endpoint;

    private void start(Storage storage) {
        Clock clock = Clock.fixed(Instant.parse("2026-12-03T12:34:56.789Z"), ZoneOffset.UTC);
        endpoint = new BackupEndpoint(TOKEN, storage, Path.of("backups"), clock);
        channel = connection();
    }

    /** A connection to the endpoint; the other routes are not called. */
    private EmbeddedChannel connection() {
        Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            endpoints.put(route, (ctx, request) -> {
                throw new AssertionError("not called");
            });
        }
        endpoints.put(Route.BACKUP, endpoint);
        return new EmbeddedChannel(new RequestSequencer(inFlight), new RouteHandler(), new ApiHandler(endpoints),
                new ExceptionHandler());
    }

    @AfterEach
    void tearDown() {
        assertFalse(channel.finishAndReleaseAll(), "nothing left unread in the channel");
    }

    @Test
    void answersWithThePathOnceTheBackupIsComplete() {
        HeldBackups storage = new HeldBackups();
        start(storage);
        channel.writeInbound(request(HttpMethod.POST, "/backup", BODY));
        assertEquals(List.of(Path.of("backups", "broker-20261203T123456.789Z")), storage.targets);
        assertTrue(channel.outboundMessages().isEmpty(), "no answer before the backup is complete");

        storage.results.get(0).complete(Path.of("/srv/backups/broker-20261203T123456.789Z"));
        channel.runPendingTasks();
        assertEquals("/srv/backups/broker-20261203T123456.789Z",
                assertOkObject(response(channel)).get("path").asText());
    }

    @Test
    void refusesASecondBackupWhileOneIsUnderWay() {
        HeldBackups storage = new HeldBackups();
        start(storage);
        channel.writeInbound(request(HttpMethod.POST, "/backup", BODY));
        EmbeddedChannel other = connection();
        other.writeInbound(request(HttpMethod.POST, "/backup", BODY));
        assertTrue(assertError(409, response(other)).contains("already under way"));
        assertFalse(other.finishAndReleaseAll());

        storage.results.get(0).completeExceptionally(new StorageException("backup into x failed: disk full"));
        channel.runPendingTasks();
        assertEquals("backup into x failed: disk full", assertError(500, response(channel)));

        channel.writeInbound(request(HttpMethod.POST, "/backup", BODY));
        assertEquals(2, storage.targets.size(), "once the first has answered, another may start");
        storage.results.get(1).complete(Path.of("b2"));
        channel.runPendingTasks();
        assertOkObject(response(channel));
    }

    @Test
    void refusesAWrongTokenWithoutStartingABackup() {
        HeldBackups storage = new HeldBackups();
        start(storage);
        channel.writeInbound(request(HttpMethod.POST, "/backup", "{\"admin_token\":\"guess\"}"));
        assertError(401, response(channel));
        channel.writeInbound(request(HttpMethod.POST, "/backup", "{\"token\":\"x\"}"));
        assertError(400, response(channel));
        assertEquals(List.of(), storage.targets);
    }

    @Test
    void aBackendWithoutBackupsIsA501ThatSaysSo() {
        start(new NoBackups());
        channel.writeInbound(request(HttpMethod.POST, "/backup", BODY));
        channel.runPendingTasks();
        assertTrue(assertError(501, response(channel)).contains("no online backup"));
    }
}
