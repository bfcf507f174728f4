package dev.broker.storage.jetstream;

import dev.broker.storage.Storage;
import dev.broker.storage.StorageContractTest;
import dev.broker.storage.testing.NatsServers;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage contract on JetStream: one single-node nats-server for the class, and a fresh stream and bucket
 * (another prefix) for every store, replicas 1.
 */
class JetStreamStorageContractTest extends StorageContractTest {

    @TempDir
    static Path natsDir;
    private static NatsServers nats;
    private static final AtomicInteger STORES = new AtomicInteger();

    @BeforeAll
    static void startNats() {
        nats = NatsServers.single(natsDir);
    }

    @AfterAll
    static void stopNats() {
        if (nats != null) {
            nats.close();
        }
    }

    @Override
    protected Storage openEmpty() {
        return JetStreamStorage.open(nats.settings(1, "contract" + STORES.incrementAndGet()));
    }
}
