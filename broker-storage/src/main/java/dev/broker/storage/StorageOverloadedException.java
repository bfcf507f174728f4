package dev.broker.storage;

/** The store refused new work because too much is already waiting; nothing was stored, and a retry may succeed. */
public class StorageOverloadedException extends StorageException {

    public StorageOverloadedException(String message) {
        super(message);
    }
}
