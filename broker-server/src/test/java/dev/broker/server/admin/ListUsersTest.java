package dev.broker.server.admin;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.http.Json;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.TestBroker;
import dev.broker.storage.User;
import dev.broker.storage.rocksdb.RocksStorage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code list_users} over a store of 5,000 users (more than nine pages of the stream): without paging, the whole
 * list, streamed, byte for byte what one array of the stored users is; with {@code limit} and {@code after}, pages
 * that walk the same list; bad paging fields are 400s.
 */
@Timeout(120)
class ListUsersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int USERS = 5_000;
    private static final String ADMIN = "\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\"";

    @TempDir
    Path dir;

    private List<User> stored;

    @BeforeEach
    void storeUsers() {
        try (RocksStorage storage = RocksStorage.open(dir.resolve("db"))) {
            List<CompletableFuture<Boolean>> created = new ArrayList<>();
            for (int i = 0; i < USERS; i++) {
                // Names that sort differently from their creation order, and one that needs escaping.
                String name = (i % 7) + "-user-" + i + (i == 42 ? "-\u00e9\"q" : "");
                created.add(storage.users().create(new User("id-" + i, name, "t" + (i % 3), "hash", i % 5 == 0)));
            }
            CompletableFuture.allOf(created.toArray(CompletableFuture[]::new)).join();
            stored = storage.users().list().join();
        }
        assertEquals(USERS, stored.size());
    }

    /** The contract's answer for these users, as one array built whole. */
    private String expectedBody(List<User> users) {
        ByteBuf bytes = Json.write(UnpooledByteBufAllocator.DEFAULT, g -> {
            g.writeStartArray();
            for (User user : users) {
                AdminEndpoints.writeUser(g, user);
            }
            g.writeEndArray();
        });
        try {
            return bytes.toString(StandardCharsets.UTF_8);
        } finally {
            bytes.release();
        }
    }

    @Test
    void streamsEveryStoredUserByteForByte() throws Exception {
        try (TestBroker broker = TestBroker.start(dir)) {
            HttpResult result = broker.post("/list_users", "{" + ADMIN + "}");

            assertEquals(200, result.status(), result.body());
            assertEquals("chunked", result.header("Transfer-Encoding"));
            assertEquals(expectedBody(stored), result.body());
            JsonNode first = JSON.readTree(result.body()).get(0);
            assertEquals("***", first.get("password").asText());

            // And again, on the connection the client keeps alive: a streamed answer leaves it usable.
            assertEquals(expectedBody(stored), broker.post("/list_users", "{" + ADMIN + "}").body());
        }
    }

    @Test
    void pagesWalkTheSameListWithLimitAndAfter() {
        try (TestBroker broker = TestBroker.start(dir)) {
            List<User> walked = new ArrayList<>();
            String after = null;
            int pages = 0;
            while (true) {
                String body = "{" + ADMIN + ",\"limit\":1000" + (after == null ? "" : ",\"after\":"
                        + JSON.valueToTree(after)) + "}";
                HttpResult page = broker.post("/list_users", body);
                assertEquals(200, page.status(), page.body());
                int from = walked.size();
                List<User> expected = stored.subList(from, Math.min(from + 1000, USERS));
                assertEquals(expectedBody(expected), page.body(), "page " + pages);
                walked.addAll(expected);
                pages++;
                if (expected.size() < 1000) {
                    break;
                }
                after = expected.get(expected.size() - 1).username();
            }
            assertEquals(6, pages, "five full pages, then an empty one");
            assertEquals(USERS, walked.size());
            assertEquals("[]", broker.post("/list_users", "{" + ADMIN + ",\"after\":\"\\uffff\"}").body());
        }
    }

    @Test
    void refusesBadPagingFieldsWith400() {
        try (TestBroker broker = TestBroker.start(dir)) {
            for (String fields : List.of("\"limit\":0", "\"limit\":10001", "\"limit\":-1", "\"limit\":\"5\"",
                    "\"limit\":1.5", "\"limit\":99999999999999999999", "\"after\":5", "\"after\":null",
                    "\"limit\":1,\"limit\":2")) {
                String error = assertError(400, broker.post("/list_users", "{" + ADMIN + "," + fields + "}"), fields);
                assertFalse(error.isEmpty());
            }
            assertError(401, broker.post("/list_users", "{\"admin_token\":\"wrong\",\"limit\":5}"));
        }
    }
}
