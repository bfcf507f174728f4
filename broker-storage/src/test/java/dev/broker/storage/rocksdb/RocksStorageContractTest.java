package dev.broker.storage.rocksdb;

import dev.broker.storage.Storage;
import dev.broker.storage.StorageContractTest;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;

/** The storage contract on the embedded RocksDB store. */
class RocksStorageContractTest extends StorageContractTest {

    @TempDir
    Path dir;

    @Override
    protected Storage openEmpty() {
        return RocksStorage.open(dir.resolve(UUID.randomUUID().toString()));
    }
}
