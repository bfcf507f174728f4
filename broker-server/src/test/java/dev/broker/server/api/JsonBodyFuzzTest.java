package dev.broker.server.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.http.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The JSON body parsers on any bytes: a body parses, and then holds exactly what the contract allows, or is a
 * {@link BadRequestException}; nothing else escapes (anything else would be a 500). Replays its corpus in every build;
 * {@code JAZZER_FUZZ=1 mvn -pl broker-server test -Dtest=JsonBodyFuzzTest} fuzzes.
 */
class JsonBodyFuzzTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @FuzzTest(maxDuration = "60s")
    void insertBodiesParseOrAreRefused(byte[] body) throws Exception {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        try {
            InsertEndpoint.InsertBody parsed = InsertEndpoint.parse(content);
            InsertEndpoint.checkEventName(parsed.event());
            assertTrue(Json.isWellFormed(parsed.event()), "event name with a lone surrogate");
            String data = new String(parsed.data(), StandardCharsets.US_ASCII);
            for (byte b : parsed.data()) {
                // ASCII (non-ASCII is escaped), on one line (a raw CR or LF would end the SSE data line).
                assertTrue(b >= 0x20, "data is ASCII on one line: " + data);
            }
            // What subscribers get is valid JSON in its compact form: reading and re-serialising it changes nothing.
            MAPPER.readTree(parsed.data());
            try (JsonParser again = Json.parser(Unpooled.wrappedBuffer(parsed.data()))) {
                again.nextToken();
                assertArrayEquals(parsed.data(), Json.compactCopyOfCurrentValue(again), data);
            }
        } catch (BadRequestException refused) {
            // a contract answer: 400
        } finally {
            content.release();
        }
    }

    @FuzzTest(maxDuration = "60s")
    void stringFieldsParseOrAreRefused(byte[] body) throws Exception {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        try {
            StringFields fields = StringFields.parse(content, Set.of("username", "password"));
            for (String name : new String[] {"username", "password"}) {
                try {
                    assertTrue(Json.isWellFormed(fields.required(name)), name);
                } catch (BadRequestException missing) {
                    // absent: the endpoint answers 400
                }
            }
        } catch (BadRequestException refused) {
            // 400
        } finally {
            content.release();
        }
    }
}
