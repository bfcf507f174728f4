package dev.broker.storage.jetstream;

/** JetStream API error codes Broker tells apart (the server's {@code err_code}). */
final class JetStreamErrors {

    /** A stream or key-value bucket does not exist. */
    static final int STREAM_NOT_FOUND = 10059;
    /** A message get found no message. */
    static final int NO_MESSAGE_FOUND = 10037;
    /** A write expected another last sequence: a key-value create of a taken key, or a stale update. */
    static final int WRONG_LAST_SEQUENCE = 10071;

    private JetStreamErrors() {
    }
}
