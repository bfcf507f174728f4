package dev.broker.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LineFormatsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jsonWritesOneObjectPerLineWithStableFields() throws IOException {
        LogRecord record = new LogRecord(Level.INFO, "closed 7 slow SSE consumer(s)\nin the last 10 s");
        record.setLoggerName(OperatorLog.LOGGER);
        record.setParameters(new Object[] {LogFields.of("slow_consumers_closed", "count", 7L, "interval_seconds", 10L)});

        String line = LineFormats.of("json").format(record);

        assertTrue(line.endsWith(System.lineSeparator()));
        assertEquals(1, line.strip().lines().count(), line);
        JsonNode json = JSON.readTree(line);
        assertEquals(List.of("ts", "level", "logger", "event", "msg", "count", "interval_seconds"), fieldNames(json));
        assertTrue(json.get("ts").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), line);
        assertEquals("INFO", json.get("level").asText());
        assertEquals(OperatorLog.LOGGER, json.get("logger").asText());
        assertEquals("slow_consumers_closed", json.get("event").asText());
        assertEquals("closed 7 slow SSE consumer(s)\nin the last 10 s", json.get("msg").asText());
        assertEquals(7, json.get("count").asLong());
        assertTrue(json.get("count").isNumber());
    }

    @Test
    void jsonCarriesTheErrorWithClassMessageAndStack() throws IOException {
        LogRecord record = new LogRecord(Level.SEVERE, "storage {0}: append failed");
        record.setLoggerName("dev.broker.storage.rocksdb.GroupCommitWriter");
        record.setParameters(new Object[] {"db"});
        record.setThrown(new IllegalStateException("No space left on device", new java.io.IOException("ENOSPC")));

        JsonNode json = JSON.readTree(LineFormats.of("json").format(record));

        assertEquals("ERROR", json.get("level").asText());
        assertFalse(json.has("event"), "only operator events carry an event name");
        assertEquals("storage db: append failed", json.get("msg").asText());
        assertEquals("java.lang.IllegalStateException", json.at("/error/class").asText());
        assertEquals("No space left on device", json.at("/error/message").asText());
        assertTrue(json.at("/error/stack").asText().contains("Caused by: java.io.IOException: ENOSPC"));
    }

    @Test
    void textWritesTimestampLevelLoggerMessageAndFields() {
        LogRecord record = new LogRecord(Level.WARNING, "answered 3 request(s) with 503");
        record.setLoggerName(OperatorLog.LOGGER);
        record.setParameters(new Object[] {LogFields.of("service_unavailable", "count", 3L)});

        String line = LineFormats.of("text").format(record);

        assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z WARNING " + OperatorLog.LOGGER
                + ": answered 3 request\\(s\\) with 503 \\[service_unavailable count=3\\]\\R"), line);
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new java.util.ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
