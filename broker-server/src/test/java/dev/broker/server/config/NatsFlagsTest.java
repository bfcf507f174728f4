package dev.broker.server.config;

import static dev.broker.server.config.Flags.NATS;
import static dev.broker.server.config.Flags.NATS_CA;
import static dev.broker.server.config.Flags.NATS_CREDS;
import static dev.broker.server.config.Flags.NATS_PREFIX;
import static dev.broker.server.config.Flags.NATS_REPLICAS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The cluster flags: {@code --nats} and its companions, from the command line and the environment. */
class NatsFlagsTest {

    private static String failure(String... args) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(args, Map.of())).getMessage();
    }

    @Test
    void embeddedByDefault() {
        BrokerConfig config = BrokerConfig.defaults();
        assertNull(config.get(NATS));
        assertEquals(3, config.get(NATS_REPLICAS));
        assertEquals("broker", config.get(NATS_PREFIX));
        assertNull(config.get(NATS_CREDS));
        assertNull(config.get(NATS_CA));
    }

    @Test
    void readsCommaSeparatedUrlsIgnoringBlanksAroundCommas() {
        BrokerConfig config = ConfigLoader.load(new String[] {"--nats", "nats://a:4222, nats://b:4223 ,tls://c:4224"},
                Map.of());
        assertEquals(List.of("nats://a:4222", "nats://b:4223", "tls://c:4224"), config.get(NATS));
    }

    @Test
    void readsTheClusterFlagsFromTheEnvironment() {
        BrokerConfig config = ConfigLoader.load(new String[0], Map.of("BROKER_NATS", "nats://127.0.0.1:4222",
                "BROKER_NATS_REPLICAS", "1", "BROKER_NATS_PREFIX", "staging_2", "BROKER_NATS_CREDS", "/etc/x.creds"));
        assertEquals(List.of("nats://127.0.0.1:4222"), config.get(NATS));
        assertEquals(1, config.get(NATS_REPLICAS));
        assertEquals("staging_2", config.get(NATS_PREFIX));
        assertEquals(Path.of("/etc/x.creds"), config.get(NATS_CREDS));
    }

    @Test
    void anEmptyValueMeansEmbedded() {
        assertNull(ConfigLoader.load(new String[] {"--nats="}, Map.of()).get(NATS));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://a:4222", "nats://", "a b", "nats://a:4222/path", "nats://a:4222,ftp://b"})
    void rejectsWhatIsNotANatsUrl(String value) {
        String message = failure("--nats", value);
        assertTrue(message.contains("nats") && message.contains("nats://host:4222"), message);
    }

    @Test
    void neverShowsAPasswordInAUrl() {
        BrokerConfig config = ConfigLoader.load(new String[] {"--nats", "nats://ada:hunter2@a:4222,nats://b:4222"},
                Map.of());
        assertEquals(List.of("nats://ada:hunter2@a:4222", "nats://b:4222"), config.get(NATS));
        String described = ConfigLoader.describe(config);
        assertTrue(described.contains("nats=***") && !described.contains("hunter2"), described);
        String message = failure("--nats", "nats://b:4222,http://ada:hunter2@a:4222");
        assertTrue(!message.contains("hunter2") && message.contains("http://***@a:4222"), message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a.b", "a*", "a>", "with space", "ümlaut", "x/y", "0123456789012345678901234567890123"})
    void rejectsAPrefixNatsCannotNameAStreamWith(String value) {
        String message = failure("--nats_prefix", value);
        assertTrue(message.contains("nats_prefix") && message.contains("letters, digits"), message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "6", "three"})
    void rejectsReplicasOutsideOneToFive(String value) {
        assertTrue(failure("--nats_replicas", value).contains("nats_replicas"));
    }
}
