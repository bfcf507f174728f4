package dev.broker.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** {@code Last-Event-ID}: any text parses to nothing or to the non-negative integer it spells, never throws. */
class LastEventIdFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void parsesToNothingOrTheIdItSpells(FuzzedDataProvider data) {
        String value = data.consumeRemainingAsString();
        Long id = LastEventId.parse(value);
        if (id != null) {
            assertTrue(id >= 0, value);
            assertEquals(value.trim().replaceFirst("^0+(?=.)", ""), Long.toString(id), value);
        }
    }
}
