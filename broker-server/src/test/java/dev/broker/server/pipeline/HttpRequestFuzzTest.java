package dev.broker.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.broker.server.api.ApiHandler;
import dev.broker.server.api.AuthHandler;
import dev.broker.server.api.Endpoint;
import dev.broker.server.api.InsertEndpoint;
import dev.broker.server.api.Route;
import dev.broker.server.api.RouteHandler;
import dev.broker.server.api.StringFields;
import dev.broker.server.auth.Authenticator;
import dev.broker.server.auth.BasicCredentialCache;
import dev.broker.server.auth.JwtTokens;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.UserDirectory;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.InFlightRequests;
import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import dev.broker.server.testing.OneUserStore;
import dev.broker.storage.User;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Any bytes a client may send, through the real HTTP/1.1 pipeline (codec, body limit, sequencer, CORS, router, auth,
 * the insert endpoint, body parsing) on an {@link EmbeddedChannel}: every answer is one the contract knows — never a
 * 500 — every buffer is released, and nothing the client sent reaches the log. Replays its corpus in every build;
 * {@code JAZZER_FUZZ=1 mvn -pl broker-server test -Dtest=HttpRequestFuzzTest} fuzzes.
 */
class HttpRequestFuzzTest {

    private static final String SECRET = "fuzzing-secret-of-at-least-32-bytes!!";
    private static final JwtTokens TOKENS = new JwtTokens(SECRET, 3600);
    private static final PasswordHasher HASHER = new PasswordHasher(Runnable::run);
    private static final String PASSWORD = "s3cret-Pa55word";
    private static final Set<Integer> CONTRACT_STATUSES = Set.of(200, 204, 400, 401, 404, 405, 408, 413, 429, 503);
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] (\\d{3}) ");
    /** What the server logged, as text; a handler on java.util.logging's root, where System.Logger goes. */
    private static final List<String> LOGGED = new ArrayList<>();

    static {
        Logger.getLogger("").addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                StringBuilder text = new StringBuilder(String.valueOf(record.getMessage()));
                for (Throwable t = record.getThrown(); t != null; t = t.getCause()) {
                    text.append('\n').append(t);
                }
                synchronized (LOGGED) {
                    LOGGED.add(text.toString());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    private static final BrokerChannelInitializer INITIALIZER = initializer();

    private static BrokerChannelInitializer initializer() {
        User ada = new User("1", "ada", "acme", HASHER.hash(PASSWORD), false);
        Authenticator authenticator = new Authenticator(TOKENS, new UserDirectory(new OneUserStore(ada), 100), HASHER,
                new BasicCredentialCache());
        Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
        // The body parsers every admin and session endpoint starts with, then a plain 200.
        Endpoint parseThenOk = (ctx, request) -> {
            StringFields.parse(request.body(), Set.of("username", "password", "admin_token", "tenant_name"));
            HttpResponses.object(ctx, request.slot(), g -> g.writeStringField("ok", "yes"));
        };
        for (Route route : Route.values()) {
            endpoints.put(route, parseThenOk);
        }
        endpoints.put(Route.INSERT, new InsertEndpoint(new AcceptingLog()));
        return new BrokerChannelInitializer(null, new ConnectionLimits(Integer.MAX_VALUE, 0), 30, "*", 4096,
                new InFlightRequests(), new RouteHandler(), new AuthHandler(authenticator), new ApiHandler(endpoints));
    }

    @FuzzTest(maxDuration = "120s")
    void everyAnswerIsAContractAnswer(byte[] input) {
        int loggedBefore;
        synchronized (LOGGED) {
            loggedBefore = LOGGED.size();
        }
        String bytes = new String(input, StandardCharsets.ISO_8859_1);
        EmbeddedChannel channel = new EmbeddedChannel(INITIALIZER);
        StringBuilder answers = new StringBuilder();
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(input));
            channel.runPendingTasks();
            drain(channel, answers);
        } finally {
            channel.finishAndReleaseAll();
        }
        Matcher statuses = STATUS.matcher(answers);
        while (statuses.find()) {
            int status = Integer.parseInt(statuses.group(1));
            assertTrue(CONTRACT_STATUSES.contains(status), "answered " + status + " to " + bytes);
        }
        synchronized (LOGGED) {
            for (String line : LOGGED.subList(loggedBefore, LOGGED.size())) {
                for (String secret : new String[] {PASSWORD, SECRET, "eyJ"}) {
                    assertTrue(!line.contains(secret), "logged " + line);
                }
            }
        }
    }

    private static void drain(EmbeddedChannel channel, StringBuilder answers) {
        Object message;
        while ((message = channel.readOutbound()) != null) {
            if (message instanceof ByteBuf buf) {
                answers.append(buf.toString(StandardCharsets.ISO_8859_1));
                buf.release();
                assertEquals(0, buf.refCnt());
            }
        }
    }

    /** Every insert succeeds at once, as a healthy store's would. */
    private static final class AcceptingLog implements EventLog {
        private long lastId;

        @Override
        public synchronized CompletableFuture<Event> append(String tenant, String name, byte[] data) {
            return CompletableFuture.completedFuture(new Event(++lastId, tenant, name, 0, data));
        }

        @Override
        public CompletableFuture<List<Event>> latest(String tenant) {
            return CompletableFuture.completedFuture(List.of());
        }

        @Override
        public CompletableFuture<List<Event>> after(String tenant, long afterId, int limit, long maxDataBytes) {
            return CompletableFuture.completedFuture(List.of());
        }

        @Override
        public CompletableFuture<Long> lastIssuedId() {
            return CompletableFuture.completedFuture(lastId);
        }
    }
}
