package dev.broker.server;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.TestBroker;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerServerStartTest {

    @TempDir
    Path dir;

    @Test
    void aPortInUseFailsTheStartWithAClearErrorAndReleasesTheDatabase() {
        try (TestBroker running = TestBroker.start(dir.resolve("first"))) {
            var clash = running.config().with(Flags.DB, dir.resolve("second")).with(Flags.PORT, running.port());
            IllegalStateException failure = assertThrows(IllegalStateException.class, () -> BrokerServer.start(clash));
            assertTrue(failure.getMessage().startsWith("cannot listen on 127.0.0.1:" + running.port()),
                    failure.getMessage());
            // The failed start closed its database: the same directory opens again.
            BrokerServer.start(clash.with(Flags.PORT, 0)).close();
        }
    }
}
