package dev.broker.storage.rocksdb;

import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Makes one write batch durable. In production a synced {@code RocksDB.write}; a separate interface so tests can
 * hold a commit in flight or make it fail.
 */
@FunctionalInterface
interface BatchCommitter {

    void commit(WriteBatch batch) throws RocksDBException;
}
