package dev.broker.storage;

/**
 * A read asked for history that retention has removed (only the latest event of every name is left of it): the
 * reader must start from the snapshot instead. See {@link EventLog#retainedFrom(String)}.
 */
public class HistoryTrimmedException extends StorageException {

    public HistoryTrimmedException(String message) {
        super(message);
    }
}
