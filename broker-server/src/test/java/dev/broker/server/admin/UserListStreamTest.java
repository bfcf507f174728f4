package dev.broker.server.admin;

import static dev.broker.server.testing.EmbeddedHttp.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.api.ApiHandler;
import dev.broker.server.api.Endpoint;
import dev.broker.server.api.Route;
import dev.broker.server.api.RouteHandler;
import dev.broker.server.http.ExceptionHandler;
import dev.broker.server.http.InFlightRequests;
import dev.broker.server.http.RequestSequencer;
import dev.broker.storage.StorageUnavailableException;
import dev.broker.storage.User;
import dev.broker.storage.UserFeed;
import dev.broker.storage.UserStore;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UserListStream} behind the sequencer and router: one page read at a time, the next only after the previous
 * page was written; the pieces make one JSON array; every buffer is released; a store failing before the head is a
 * 503, after it a closed connection.
 */
class UserListStreamTest {

    private static final int PAGE = 3;

    /** The store's page reads, answered by hand. */
    private final Queue<PageRead> reads = new ArrayDeque<>();
    private EmbeddedChannel channel;

    private record PageRead(String after, CompletableFuture<List<User>> result) {
    }

    @BeforeEach
    void setUp() {
        UserStore paged = new PagedByHand();
        Map<Route, Endpoint> endpoints = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            endpoints.put(route, (ctx, request) -> {
                throw new AssertionError("only list_users is sent");
            });
        }
        endpoints.put(Route.LIST_USERS, (ctx, request) -> UserListStream.start(ctx, request.slot(), paged, false, PAGE));
        channel = new EmbeddedChannel(new RequestSequencer(new InFlightRequests()), new RouteHandler(),
                new ApiHandler(endpoints), new ExceptionHandler());
    }

    @AfterEach
    void tearDown() {
        assertTrue(reads.isEmpty(), "every read was answered");
        assertFalse(channel.finishAndReleaseAll(), "nothing left unread");
    }

    private static User user(int i) {
        return new User("id" + i, "u" + i, "t", "hash", false);
    }

    private static List<User> users(int from, int to) {
        List<User> users = new ArrayList<>();
        for (int i = from; i < to; i++) {
            users.add(user(i));
        }
        return users;
    }

    private void answer(String expectedAfter, List<User> page) {
        PageRead read = reads.poll();
        assertEquals(expectedAfter, read.after());
        assertTrue(reads.isEmpty(), "one page read at a time");
        read.result().complete(page);
        channel.runPendingTasks();
    }

    /** Reads and releases the outbound body pieces written so far. */
    private String drainBody(StringBuilder body) {
        Object message;
        while ((message = channel.readOutbound()) != null) {
            if (message instanceof HttpContent content) {
                body.append(content.content().toString(StandardCharsets.UTF_8));
                assertTrue(content.release(), "the writer hands each piece over with one reference");
            }
        }
        return body.toString();
    }

    @Test
    void writesPageAfterPageAsOneArrayAndReleasesEverything() {
        FullHttpRequest request = request(HttpMethod.POST, "/list_users", "{}");
        channel.writeInbound(request);
        assertTrue(channel.outboundMessages().isEmpty(), "nothing is written before the first page is read");

        answer(null, users(0, 3));
        HttpResponse head = channel.readOutbound();
        assertInstanceOf(HttpResponse.class, head);
        assertFalse(head instanceof FullHttpResponse);
        assertEquals("chunked", head.headers().get("Transfer-Encoding"));
        StringBuilder body = new StringBuilder();
        drainBody(body);
        answer("u2", users(3, 6));
        drainBody(body);
        answer("u5", users(6, 7)); // a short page is the last
        Object last = channel.outboundMessages().peek();
        assertInstanceOf(LastHttpContent.class, last);
        String json = drainBody(body);

        StringBuilder expected = new StringBuilder("[");
        for (int i = 0; i < 7; i++) {
            expected.append(i == 0 ? "" : ",").append("{\"id\":\"id").append(i).append("\",\"username\":\"u")
                    .append(i).append("\",\"tenant_name\":\"t\",\"revoked\":false,\"password\":\"***\"}");
        }
        assertEquals(expected.append("]").toString(), json);
        assertEquals(0, request.refCnt(), "the request was released");
        assertTrue(channel.isOpen(), "keep-alive");
    }

    @Test
    void aFullLastPageIsFollowedByAnEmptyOneThatClosesTheArray() {
        channel.writeInbound(request(HttpMethod.POST, "/list_users", "{}"));
        answer(null, users(0, 3));
        assertInstanceOf(HttpResponse.class, channel.readOutbound());
        StringBuilder body = new StringBuilder();
        drainBody(body);
        answer("u2", List.of());
        assertTrue(drainBody(body).endsWith("\"***\"}]"), body.toString());
    }

    @Test
    void anEmptyStoreIsAnEmptyArray() {
        channel.writeInbound(request(HttpMethod.POST, "/list_users", "{}"));
        answer(null, List.of());
        assertInstanceOf(HttpResponse.class, channel.readOutbound());
        assertEquals("[]", drainBody(new StringBuilder()));
    }

    @Test
    void aStoreFailingBeforeTheHeadIsA503AndAfterItClosesTheConnection() {
        channel.writeInbound(request(HttpMethod.POST, "/list_users", "{}"));
        PageRead first = reads.poll();
        first.result().completeExceptionally(new StorageUnavailableException("disk gone"));
        channel.runPendingTasks();
        FullHttpResponse refused = channel.readOutbound();
        assertEquals(503, refused.status().code());
        refused.release();
        assertTrue(channel.isOpen());

        channel.writeInbound(request(HttpMethod.POST, "/list_users", "{}"));
        answer(null, users(0, 3));
        assertInstanceOf(HttpResponse.class, channel.readOutbound());
        drainBody(new StringBuilder());
        reads.poll().result().completeExceptionally(new StorageUnavailableException("disk gone"));
        channel.runPendingTasks();
        assertFalse(channel.isOpen(), "a body that cannot be finished ends the connection");
        assertNull(channel.readOutbound(), "and nothing that would look like the end of the list");
    }

    /** A store whose page reads wait in {@link #reads}. */
    private final class PagedByHand implements UserStore {
        @Override
        public CompletableFuture<List<User>> list(String afterUsername, int limit) {
            assertEquals(PAGE, limit);
            CompletableFuture<List<User>> result = new CompletableFuture<>();
            reads.add(new PageRead(afterUsername, result));
            return result;
        }

        @Override
        public CompletableFuture<Boolean> create(User user) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Optional<User>> find(String username) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<List<User>> list() {
            throw new UnsupportedOperationException();
        }

        @Override
        public UserFeed changes() {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Optional<User>> setRevoked(String username, boolean revoked) {
            throw new UnsupportedOperationException();
        }
    }
}
