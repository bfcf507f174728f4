package dev.broker.storage;

/**
 * The store cannot write at the moment (say the disk is full, or the process ran out of file descriptors) and is
 * recovering by itself; a retry later may succeed. Requests refused this way stored nothing. Only for the writes
 * that were under way when the failure struck is the outcome unknown (their bytes may have reached the disk);
 * none of them was acknowledged.
 */
public class StorageUnavailableException extends StorageException {

    public StorageUnavailableException(String message) {
        super(message);
    }

    public StorageUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
