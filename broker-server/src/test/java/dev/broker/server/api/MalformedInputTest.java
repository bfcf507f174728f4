package dev.broker.server.api;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.LogCapture;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Input that is wrong in ways a parser can hide: a percent-escape that does not decode, bytes that are not UTF-8,
 * lone UTF-16 surrogates, JSON syntax errors. Each gets a 400 with a reason in the request's terms, and none of
 * what the client sent — above all its credentials — reaches the log.
 */
@Timeout(60)
class MalformedInputTest {

    private static final String PASSWORD = "pw-of-a-very-secret-kind";

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();
    @RegisterExtension
    final LogCapture log = new LogCapture();

    private TestBroker broker;
    private String jwt;

    @BeforeEach
    void start() {
        broker = brokers.start();
        broker.createUser("alice", PASSWORD, "acme");
        jwt = broker.login("alice", PASSWORD);
    }

    @AfterEach
    void nothingSecretWasLogged() {
        for (String secret : new String[] {jwt, PASSWORD, TestBroker.ADMIN_TOKEN, TestBroker.JWT_SECRET}) {
            assertEquals(java.util.List.of(), log.linesContaining(secret), "a secret reached the log");
        }
        assertEquals(java.util.List.of(), log.linesContaining("%zz"), "the request target reached the log");
    }

    @Test
    void aBadPercentEscapeInTheQueryIsA400AndTheTokenIsNotLogged() {
        HttpResult result = rawGet("/sse?access_token=" + jwt + "&x=%zz");
        assertTrue(assertError(400, result).contains("malformed request target"), result.body());
        assertError(400, rawGet("/verify?x=%e9%zz", "Authorization", "Bearer " + jwt));
        assertEquals(200, broker.get("/healthz").status(), "the server carries on");
    }

    @Test
    void aBadPercentEscapeInThePathIsA400() {
        assertError(400, rawGet("/s%zzse?access_token=" + jwt));
        assertError(400, rawGet("/sse%4?access_token=" + jwt));
    }

    /** Overlong forms, CESU-8 surrogates, code points above U+10FFFF, truncated sequences, stray continuations. */
    @ParameterizedTest
    @ValueSource(strings = {"c0af", "e080af", "eda080", "edbfbf", "f4908080", "f8888080", "e282", "80", "ff"})
    void bodiesThatAreNotUtf8AreRefusedNotAltered(String hex) {
        byte[] bad = HexFormat.of().parseHex(hex);
        HttpResult insert = postBytes("/insert", json("{\"event\":\"e\",\"data\":\"", bad, "\"}"),
                "Authorization", "Bearer " + jwt);
        assertEquals("body is not valid UTF-8", assertError(400, insert));
        HttpResult name = postBytes("/insert", json("{\"event\":\"e", bad, "\",\"data\":1}"),
                "Authorization", "Bearer " + jwt);
        assertEquals("body is not valid UTF-8", assertError(400, name));
        HttpResult createUser = postBytes("/create_user", json("{\"username\":\"u", bad,
                "\",\"password\":\"p\",\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"t\"}"));
        assertEquals("body is not valid UTF-8", assertError(400, createUser));
    }

    @Test
    void wellFormedUtf8IsKept() {
        HttpResult ok = postBytes("/insert", "{\"event\":\"caf\u00e9 \ud83d\ude00\",\"data\":\"\u20ac\"}"
                .getBytes(StandardCharsets.UTF_8), "Authorization", "Bearer " + jwt);
        assertEquals(200, ok.status(), ok.body());
        assertEquals("caf\u00e9 \ud83d\ude00", ok.json().get("event").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"event\":\"s\\uDFFE\",\"data\":1}",
        "{\"event\":\"s\\uD800\",\"data\":1}",
        "{\"event\":\"\\uDE00\\uD83D\",\"data\":1}",
    })
    void loneSurrogatesInEventNamesAreRefused(String body) {
        String reason = assertError(400, broker.post("/insert", body, "Authorization", "Bearer " + jwt));
        assertTrue(reason.contains("field 'event' holds a lone UTF-16 surrogate"), reason);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"event\":\"e\",\"data\":\"\\uDFFE\"}",
        "{\"event\":\"e\",\"data\":{\"k\\uD800\":1}}",
        "{\"event\":\"e\",\"data\":[1,\"x\\uDBFF\"]}",
    })
    void loneSurrogatesInDataAreRefused(String body) {
        String reason = assertError(400, broker.post("/insert", body, "Authorization", "Bearer " + jwt));
        assertTrue(reason.contains("field 'data' holds a lone UTF-16 surrogate"), reason);
    }

    @Test
    void pairedSurrogateEscapesAreFine() {
        assertEquals(200, broker.post("/insert", "{\"event\":\"\\uD83D\\uDE00\",\"data\":\"\\uD83D\\uDE00\"}",
                "Authorization", "Bearer " + jwt).status());
    }

    @Test
    void loneSurrogatesInUsernamesAreRefused() {
        String reason = assertError(400, broker.post("/create_user", "{\"username\":\"a\\uDFFE\",\"password\":\"p\","
                + "\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"tenant_name\":\"t\"}"));
        assertTrue(reason.contains("field 'username' holds a lone UTF-16 surrogate"), reason);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"event\":", "{\"event\" \"e\"}", "{'event':'e'}", "{\"event\":\"e\",}", "nul",
        "{\"event\":\"" + PASSWORD})
    void jsonSyntaxErrorsSpeakOfTheRequestNotOfTheParser(String body) {
        String reason = assertError(400, broker.post("/insert", body, "Authorization", "Bearer " + jwt));
        assertTrue(reason.startsWith("invalid JSON"), reason);
        assertFalse(reason.contains("Source") || reason.contains("code ") || reason.contains("token")
                || reason.contains(PASSWORD), reason);
        String login = assertError(400, broker.post("/login", "{\"username\":\"alice\",\"password\":" + PASSWORD));
        assertFalse(login.contains(PASSWORD), login);
    }

    @Test
    void aSyntaxErrorNamesItsLineAndColumn() {
        assertEquals("invalid JSON at line 2, column 3: unexpected input",
                assertError(400, broker.post("/insert", "{\n  x}", "Authorization", "Bearer " + jwt)));
        assertEquals("invalid JSON at line 1, column 11: the body ends in the middle of a value",
                assertError(400, broker.post("/insert", "{\"event\":\"", "Authorization", "Bearer " + jwt)));
    }

    private static byte[] json(String before, byte[] middle, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(middle);
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** A GET sent as it is (an HTTP client would refuse a target that does not decode). */
    private HttpResult rawGet(String target, String... headers) {
        return raw("GET", target, new byte[0], headers);
    }

    private HttpResult postBytes(String path, byte[] body, String... headers) {
        return raw("POST", path, body, headers);
    }

    private HttpResult raw(String method, String target, byte[] body, String... headers) {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n"
                + "Connection: close\r\nContent-Length: " + body.length + "\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        head.append("\r\n");
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            raw.send(head.toString().getBytes(StandardCharsets.US_ASCII)).send(body);
            return raw.readResponse().toResult();
        }
    }
}
