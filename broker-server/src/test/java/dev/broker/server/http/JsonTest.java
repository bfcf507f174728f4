package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link Json#compactCopyOfCurrentValue}: the bytes every subscriber gets. Whitespace goes, non-ASCII is escaped,
 * and everything else (numbers above all) stays exactly as the client sent it.
 */
class JsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Compacts the first value of {@code json} (UTF-8). */
    private static String compact(String json) throws IOException {
        ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try (JsonParser parser = Json.parser(body)) {
            parser.nextToken();
            byte[] copy = Json.compactCopyOfCurrentValue(parser);
            for (byte b : copy) {
                assertTrue(b >= 0x20 && b < 0x7f, "only printable ASCII, found byte " + (b & 0xff) + " in "
                        + new String(copy, StandardCharsets.UTF_8));
            }
            return new String(copy, StandardCharsets.US_ASCII);
        } finally {
            body.release();
        }
    }

    @Test
    void removesWhitespace() throws IOException {
        assertEquals("{\"a\":[1,2,{\"b\":null}],\"c\":{},\"d\":[]}",
                compact(" {\n\t\"a\" : [ 1 ,\r\n 2 , { \"b\" :\tnull } ] ,\n \"c\" : { } , \"d\" : [ ] }\n"));
        assertEquals("\"  spaces inside strings stay  \"", compact("  \"  spaces inside strings stay  \"  "));
    }

    @Test
    void escapesNonAsciiAsBackslashU() throws IOException {
        assertEquals("\"caf\\u00E9\"", upperHex(compact("\"café\"")));
        assertEquals("\"\\u20AC \\u4E2D\\u6587\"", upperHex(compact("\"€ 中文\"")));
        assertEquals("{\"\\u00FC\":\"\\u00FC\"}", upperHex(compact("{\"ü\":\"ü\"}")), "field names too");
    }

    @Test
    void escapesCharactersOutsideTheBmpAsSurrogatePairs() throws IOException {
        String copy = compact("\"😀\"");

        assertEquals("\"\\uD83D\\uDE00\"", upperHex(copy));
        assertEquals("😀", JSON.readTree(copy).asText(), "a JSON reader gets the character back");
    }

    @Test
    void keepsEscapesMeaningfulAndAsciiOnly() throws IOException {
        String copy = compact("\"line\\nbreak \\\"quoted\\\" back\\\\slash \\u00e9 \\/ \\u0000 \\t\"");

        assertEquals("line\nbreak \"quoted\" back\\slash é / \u0000 \t", JSON.readTree(copy).asText());
        assertTrue(!copy.contains("\n") && !copy.contains("\t"), "control characters stay escaped: " + copy);
    }

    @Test
    void keepsNumbersExactlyAsSent() throws IOException {
        List<Executable> checks = new ArrayList<>();
        for (String number : List.of("1.10", "1e400", "1E400", "-1e-400", "12345678901234567890",
                "-98765432109876543210987654321", "0.1000000000000000000000001", "3.0", "-0", "-0.0", "1e+2",
                "2.5E-3", "0")) {
            checks.add(() -> assertEquals(number, compact(number)));
            checks.add(() -> assertEquals("[" + number + "]", compact("[ " + number + " ]")));
            checks.add(() -> assertEquals("{\"n\":" + number + "}", compact("{ \"n\" : " + number + " }")));
        }
        assertAll(checks);
    }

    @Test
    void copiesScalarsAtTheTopLevel() throws IOException {
        assertEquals("null", compact(" null "));
        assertEquals("true", compact("true"));
        assertEquals("false", compact("false"));
        assertEquals("\"\"", compact("\"\""));
    }

    @Test
    void leavesTheParserOnTheValuesLastToken() throws IOException {
        ByteBuf body = Unpooled.copiedBuffer("[ {\"a\": [1]}, \"next\" ]", StandardCharsets.UTF_8);
        try (JsonParser parser = Json.parser(body)) {
            assertEquals(JsonToken.START_ARRAY, parser.nextToken());
            assertEquals(JsonToken.START_OBJECT, parser.nextToken());

            assertEquals("{\"a\":[1]}", new String(Json.compactCopyOfCurrentValue(parser), StandardCharsets.US_ASCII));

            assertEquals(JsonToken.END_OBJECT, parser.currentToken());
            assertEquals(JsonToken.VALUE_STRING, parser.nextToken());
            assertEquals("next", parser.getText());
        } finally {
            body.release();
        }
    }

    @Test
    void failsOnTruncatedInput() {
        assertThrows(IOException.class, () -> compact("{\"a\": [1, 2"));
        assertThrows(IOException.class, () -> compact("[1, 2,"));
    }

    @Test
    void parserNeitherConsumesNorReleasesTheBuffer() throws IOException {
        ByteBuf body = Unpooled.copiedBuffer("{\"a\":1}", StandardCharsets.UTF_8);
        try (JsonParser parser = Json.parser(body)) {
            while (parser.nextToken() != null) {
                // read it all
            }
        }
        assertEquals(0, body.readerIndex());
        assertEquals(1, body.refCnt());
        assertTrue(body.release());
    }

    /** Jackson may write hex digits in either case; the contract only says \\uXXXX. */
    private static String upperHex(String json) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < json.length(); i++) {
            out.append(json.charAt(i));
            if (json.startsWith("\\u", i)) {
                out.append('u').append(json.substring(i + 2, i + 6).toUpperCase(java.util.Locale.ROOT));
                i += 5;
            }
        }
        return out.toString();
    }
}
