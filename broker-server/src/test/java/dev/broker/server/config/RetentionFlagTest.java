package dev.broker.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@code --retention} and {@code --backup_dir}: strict durations, clear errors, the defaults. */
class RetentionFlagTest {

    private static BrokerConfig load(String... args) {
        return ConfigLoader.load(args, Map.of());
    }

    @ParameterizedTest
    @CsvSource({"30d, PT720H", "12h, PT12H", "90m, PT1H30M", "45s, PT45S", "0, PT0S", "0d, PT0S", "36500d, PT876000H"})
    void acceptsAWholeNumberAndAUnit(String text, String expected) {
        assertEquals(Duration.parse(expected), load("--retention", text).get(Flags.RETENTION));
    }

    @ParameterizedTest
    @ValueSource(strings = {"30", "-1d", "1.5d", "30 d", "30D", "1w", "d", "30dd", "36501d", "99999999999999999999d",
            "PT1H", " "})
    void refusesAnythingElseAndSaysWhatItWants(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> load("--retention=" + text));
        assertTrue(e.getMessage().contains("is not a duration such as 30d, 12h, 90m or 0")
                || e.getMessage().contains("is empty"), e.getMessage());
    }

    @Test
    void defaultsKeepEveryEventAndBackUpIntoBackups() {
        BrokerConfig defaults = BrokerConfig.defaults();
        assertEquals(Duration.ZERO, defaults.get(Flags.RETENTION));
        assertEquals(Path.of("backups"), defaults.get(Flags.BACKUP_DIR));
        assertTrue(ConfigLoader.describe(defaults).contains("retention=0 (keep every event)"));
        assertTrue(ConfigLoader.describe(load("--retention", "720h")).contains("retention=30d"));
    }
}
