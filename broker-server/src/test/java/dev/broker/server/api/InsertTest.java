package dev.broker.server.api;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static dev.broker.server.testing.HttpAssertions.fieldNames;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/** {@code POST /insert}: the 200 body, increasing ids, what the body may hold, and the 400s and 401s. */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class InsertTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;
    private String jwt;

    @BeforeEach
    void start() {
        broker = brokers.start();
        broker.createUser("alice", "s3cret", "acme");
        jwt = broker.login("alice", "s3cret");
    }

    private HttpResult insertRaw(String body) {
        return broker.post("/insert", body, "Authorization", "Bearer " + jwt);
    }

    private static String eventBody(String event) {
        return JSON.createObjectNode().put("event", event).put("data", 1).toString();
    }

    @Test
    void answersWithIdEventAndTimestamp() {
        long before = System.currentTimeMillis();
        HttpResult result = broker.insert(jwt, "price", "{\"usd\": 3}");
        long after = System.currentTimeMillis();

        JsonNode body = assertOkObject(result);
        assertEquals(Set.of("id", "event", "timestamp"), fieldNames(body));
        assertTrue(body.get("id").isTextual(), "id is a string: " + body);
        assertTrue(body.get("id").asText().matches("[0-9]+"), "id is a string of digits: " + body);
        assertEquals("price", body.get("event").asText());
        assertTrue(body.get("timestamp").isIntegralNumber(), "timestamp is a number of milliseconds: " + body);
        long timestamp = body.get("timestamp").asLong();
        assertTrue(timestamp >= before - 1000 && timestamp <= after + 1000,
                "timestamp " + timestamp + " is not near now [" + before + ", " + after + "]");
    }

    @Test
    void idsStrictlyIncreaseAcrossEventNames() {
        long previous = -1;
        for (int i = 0; i < 12; i++) {
            JsonNode body = assertOkObject(broker.insert(jwt, i % 2 == 0 ? "even" : "odd", Integer.toString(i)));
            long id = Long.parseLong(body.get("id").asText());
            assertTrue(id > previous, "id " + id + " after " + previous);
            previous = id;
        }
    }

    @Test
    void idsStrictlyIncreaseUnderConcurrentInserts() throws Exception {
        List<java.util.concurrent.CompletableFuture<HttpResult>> calls = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int n = i;
            calls.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> broker.insert(jwt, "tick", Integer.toString(n))));
        }
        List<Long> ids = new ArrayList<>();
        for (var call : calls) {
            ids.add(Long.parseLong(assertOkObject(call.get()).get("id").asText()));
        }
        assertEquals(ids.size(), ids.stream().distinct().count(), "ids are unique: " + ids);
        long next = Long.parseLong(assertOkObject(broker.insert(jwt, "tick", "99")).get("id").asText());
        assertTrue(ids.stream().allMatch(id -> id < next), "a later insert gets a larger id than all " + ids);
    }

    @Test
    void acceptsNullAndEveryOtherJsonValueAsData() {
        List<Executable> checks = new ArrayList<>();
        for (String data : List.of("null", "0", "-1.5e3", "\"text\"", "true", "false", "[]", "{}",
                "[1, \"two\", {\"three\": [null]}]", "{\"nested\": {\"deep\": [1, 2, {\"x\": \"\\u00e9\"}]}}")) {
            checks.add(() -> assertOkObject(broker.insert(jwt, "any", data)));
        }
        assertAll(checks);
    }

    @Test
    void acceptsBasicCredentialsToo() {
        String basic = Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));

        assertOkObject(broker.post("/insert", eventBody("via-basic"), "Authorization", "Basic " + basic));
    }

    @Test
    void echoesANonAsciiEventName() {
        JsonNode body = assertOkObject(insertRaw(eventBody("prix-€-😀")));

        assertEquals("prix-€-😀", body.get("event").asText());
    }

    @Test
    void rejectsAMissingOrMistypedEventOrDataWith400() {
        List<Executable> checks = new ArrayList<>();
        for (String body : List.of(
                "{\"event\":\"e\"}",
                "{\"data\":1}",
                "{}",
                "{\"event\":1,\"data\":1}",
                "{\"event\":null,\"data\":1}",
                "{\"event\":true,\"data\":1}",
                "{\"event\":[\"e\"],\"data\":1}",
                "{\"event\":{\"name\":\"e\"},\"data\":1}",
                "{\"event\":\"e\",\"event\":\"f\",\"data\":1}",
                "{\"event\":\"e\",\"data\":1,\"data\":2}")) {
            checks.add(() -> assertError(400, insertRaw(body), body));
        }
        assertAll(checks);
    }

    @Test
    void acceptsEventNamesOfOneTo256Characters() {
        assertOkObject(insertRaw(eventBody("e")));
        JsonNode body = assertOkObject(insertRaw(eventBody("n".repeat(256))));
        assertEquals("n".repeat(256), body.get("event").asText());
        assertOkObject(insertRaw(eventBody("with space, tab-free: ok!")));
    }

    @Test
    void rejectsEmptyOverlongAndControlCharacterEventNamesWith400() {
        List<Executable> checks = new ArrayList<>();
        List<String> names = List.of("", "n".repeat(257), "line\nbreak", "carriage\rreturn", "nul\u0000byte",
                "del\u007fchar", "tab\tchar", "\u001b[31mred", "trailing\n");
        for (String name : names) {
            checks.add(() -> assertError(400, insertRaw(eventBody(name)), "event " + JSON.valueToTree(name)));
        }
        assertAll(checks);
    }

    @Test
    void rejectsBodiesThatAreNotOneJsonObjectWith400() {
        String valid = eventBody("e");
        List<Executable> checks = new ArrayList<>();
        for (String body : List.of("", " ", "{", "{\"event\":\"e\",\"data\":}", "{\"event\":\"e\",\"data\":1,}",
                "{\"event\":'e',\"data\":1}", "{event:\"e\",\"data\":1}", "{\"event\":\"e\",\"data\":01}",
                "{\"event\":\"e\",\"data\":NaN}", "{\"event\":\"e\",\"data\":[1,2}",
                valid + " trailing", valid + "}", valid + valid, valid + ",", "[" + valid + "]", "[]",
                "\"e\"", "42", "null")) {
            checks.add(() -> assertError(400, insertRaw(body), body));
        }
        assertAll(checks);
    }

    @Test
    void rejectsInvalidUtf8With400() {
        byte[] prefix = "{\"event\":\"e\",\"data\":\"".getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[prefix.length + 4];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xC3; // a two-byte sequence cut short
        body[prefix.length + 1] = (byte) '"';
        body[prefix.length + 2] = (byte) '}';
        body[prefix.length + 3] = (byte) ' ';

        HttpResult result = broker.send(broker.request("/insert", "Authorization", "Bearer " + jwt)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertError(400, result);
    }

    @Test
    void rejectsDataNestedTooDeeplyWith400NotAnError500() {
        int depth = 5_000;
        String data = "[".repeat(depth) + "]".repeat(depth);

        assertError(400, broker.insert(jwt, "deep", data));
        assertOkObject(broker.insert(jwt, "shallow", "[[[1]]]"));
    }

    @Test
    void rejectsRequestsWithoutValidCredentialsWith401() {
        assertError(401, broker.post("/insert", eventBody("e")));
        assertError(401, broker.post("/insert", eventBody("e"), "Authorization", "Bearer not-a-jwt"));
        assertError(401, broker.post("/insert", eventBody("e"), "Authorization", "Basic "
                + Base64.getEncoder().encodeToString("alice:wrong".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void checksCredentialsBeforeTheBody() {
        // An anonymous caller learns nothing about what the endpoint would accept.
        assertError(401, broker.post("/insert", "not json"));
    }
}
