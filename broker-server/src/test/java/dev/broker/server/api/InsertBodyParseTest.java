package dev.broker.server.api;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** {@link InsertEndpoint#parse}: what an insert body may be, and the data bytes it turns into. */
class InsertBodyParseTest {

    private static InsertEndpoint.InsertBody parse(String json) throws BadRequestException {
        ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            InsertEndpoint.InsertBody parsed = InsertEndpoint.parse(body);
            assertEquals(0, body.readerIndex(), "parse leaves the buffer where it was");
            assertEquals(1, body.refCnt(), "parse does not release the buffer (the request owns it)");
            return parsed;
        } finally {
            body.release();
        }
    }

    private static String data(String json) throws BadRequestException {
        return new String(parse(json).data(), StandardCharsets.US_ASCII);
    }

    private static void assertRejected(String json) {
        ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            assertThrows(BadRequestException.class, () -> InsertEndpoint.parse(body), json);
            assertEquals(1, body.refCnt());
        } finally {
            body.release();
        }
    }

    @Test
    void readsTheEventAndACompactCopyOfTheData() throws BadRequestException {
        InsertEndpoint.InsertBody parsed = parse("{ \"event\" : \"price\" ,\n \"data\" : { \"usd\" : 1.10 , \"tags\" : [ \"a\" , \"é\" ] } }");

        assertEquals("price", parsed.event());
        assertEquals("{\"usd\":1.10,\"tags\":[\"a\",\"\\u00E9\"]}",
                new String(parsed.data(), StandardCharsets.US_ASCII).replace("\\u00e9", "\\u00E9"));
    }

    @Test
    void keepsNumbersExactly() throws BadRequestException {
        assertEquals("[1.10,1e400,12345678901234567890]",
                data("{\"event\":\"n\",\"data\":[1.10, 1e400, 12345678901234567890]}"));
    }

    @Test
    void takesFieldsInAnyOrderAndSkipsUnknownOnes() throws BadRequestException {
        InsertEndpoint.InsertBody parsed = parse("{\"extra\":{\"deep\":[1,{\"event\":\"no\"}]},\"data\":null,"
                + "\"also\":[\"data\"],\"event\":\"e\"}");

        assertEquals("e", parsed.event());
        assertEquals("null", new String(parsed.data(), StandardCharsets.US_ASCII));
    }

    @Test
    void acceptsNullAsData() throws BadRequestException {
        assertEquals("null", data("{\"event\":\"e\",\"data\":null}"));
    }

    @Test
    void countsTheEventNameInCharacters() throws BadRequestException {
        String astral = "😀".repeat(256); // 256 characters, 512 UTF-16 units

        assertEquals(astral, parse("{\"event\":\"" + astral + "\",\"data\":1}").event());
        assertRejected("{\"event\":\"" + astral + "😀\",\"data\":1}");
        assertEquals("n".repeat(256), parse("{\"event\":\"" + "n".repeat(256) + "\",\"data\":1}").event());
        assertRejected("{\"event\":\"" + "n".repeat(257) + "\",\"data\":1}");
    }

    @Test
    void rejectsWhatIsNotAValidInsertBody() {
        List<Executable> checks = new ArrayList<>();
        for (String json : List.of("", "[]", "\"e\"", "{\"event\":\"e\"}", "{\"data\":1}", "{\"event\":1,\"data\":1}",
                "{\"event\":\"\",\"data\":1}", "{\"event\":\"a\\nb\",\"data\":1}", "{\"event\":\"a\\u007fb\",\"data\":1}",
                "{\"event\":\"a\\u0000b\",\"data\":1}", "{\"event\":\"a\\rb\",\"data\":1}",
                "{\"event\":\"e\",\"data\":1} {}", "{\"event\":\"e\",\"data\":1}x", "{\"event\":\"e\",\"data\":[1,}",
                "{\"event\":\"e\",\"event\":\"e\",\"data\":1}", "{\"event\":\"e\",\"data\":1,\"data\":1}")) {
            checks.add(() -> assertRejected(json));
        }
        assertAll(checks);
    }
}
