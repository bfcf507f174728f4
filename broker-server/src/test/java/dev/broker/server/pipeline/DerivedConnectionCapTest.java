package dev.broker.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@code --max_connections 0}: the open-files limit less a reserve of max(1000, 10 %), at most half of it. */
class DerivedConnectionCapTest {

    @Test
    void leavesAThousandDescriptorsOrTenPercentWhicheverIsLarger() {
        assertEquals(9_000, ConnectionLimits.derivedMax(10_000));
        assertEquals(18_000, ConnectionLimits.derivedMax(20_000));
        assertEquals(943_719, ConnectionLimits.derivedMax(1_048_576), "broker.service's LimitNOFILE");
    }

    @Test
    void neverReservesMoreThanHalfOfASmallLimit() {
        assertEquals(512, ConnectionLimits.derivedMax(1_024));
        assertEquals(1_000, ConnectionLimits.derivedMax(2_000));
        assertEquals(1, ConnectionLimits.derivedMax(1));
    }
}
