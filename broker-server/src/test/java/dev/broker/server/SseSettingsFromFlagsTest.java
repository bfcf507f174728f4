package dev.broker.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.ConfigLoader;
import dev.broker.server.config.Flags;
import dev.broker.server.sse.SseSettings;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SseSettingsFromFlagsTest {

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    @Test
    void defaultFlagsGiveTheDefaultSseSettings() {
        assertEquals(SseSettings.defaults(), BrokerServer.sseSettings(BrokerConfig.defaults()));
    }

    @Test
    void everySseFlagSetsItsOwnSetting() {
        // Distinct values, so that two settings of one type swapped in the mapping cannot pass.
        BrokerConfig config = BrokerConfig.defaults()
                .with(Flags.HEARTBEAT, 7)
                .with(Flags.SSE_DRAIN_INTERVAL_MS, 11)
                .with(Flags.SSE_FAN_OUT_CHUNK, 13)
                .with(Flags.SNAPSHOT_CACHE_NAMES, 17)
                .with(Flags.SNAPSHOT_CACHE_BYTES, 19)
                .with(Flags.SNAPSHOT_CACHE_LOOP_BYTES, 23L)
                .with(Flags.SNAPSHOT_LINGER_MS, 29)
                .with(Flags.SSE_HISTORY_BUDGET_BYTES, 31L);

        SseSettings settings = BrokerServer.sseSettings(config);

        assertEquals(7, settings.heartbeatSeconds());
        assertEquals(11, settings.drainIntervalMillis());
        assertEquals(13, settings.fanOutChunk());
        assertEquals(17, settings.snapshotCacheNames());
        assertEquals(19, settings.snapshotCacheBytes());
        assertEquals(23, settings.snapshotCacheLoopBytes());
        assertEquals(29, settings.snapshotLingerMillis());
        assertEquals(31, settings.historyBudgetBytes());
    }

    @Test
    void theAdvancedFlagsComeFromTheEnvironmentLikeAnyOther() {
        BrokerConfig config = ConfigLoader.load(new String[] {"--sse_fan_out_chunk=3"},
                Map.of("BROKER_SSE_DRAIN_INTERVAL_MS", "0", "BROKER_SNAPSHOT_LINGER_MS", "1000"));

        SseSettings settings = BrokerServer.sseSettings(config);

        assertEquals(3, settings.fanOutChunk());
        assertEquals(0, settings.drainIntervalMillis());
        assertEquals(1000, settings.snapshotLingerMillis());
    }

    @Test
    void testServersCutFanOutsIntoTasksOfThreeStreams() {
        TestBroker broker = brokers.start();

        assertEquals(3, BrokerServer.sseSettings(broker.config()).fanOutChunk(),
                "every SSE test should cross fan-out task boundaries");
    }
}
