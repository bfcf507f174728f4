package dev.broker.storage.rocksdb;

import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Makes one write batch durable in {@code db}, the database currently open. In production a synced
 * {@code RocksDB.write}; a separate interface so tests can hold a commit in flight or make it fail.
 */
@FunctionalInterface
interface BatchCommitter {

    void commit(RocksDB db, WriteBatch batch) throws RocksDBException;
}
