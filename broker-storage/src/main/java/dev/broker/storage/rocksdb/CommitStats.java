package dev.broker.storage.rocksdb;

/**
 * Counters of the group-commit writer since the store was opened.
 *
 * @param commits       synced batch writes that succeeded
 * @param appends       appends made durable by those writes
 * @param failedAppends appends whose batch write failed
 * @param largestBatch  the most appends one write has carried
 */
public record CommitStats(long commits, long appends, long failedAppends, int largestBatch) {
}
