package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.Event;
import java.nio.ByteBuffer;

/**
 * Byte layouts of the event values (the keys are in {@link KeyCodec}).
 *
 * <pre>
 * events value: [8-byte timestamp][4-byte length of name UTF-8][name UTF-8][data]
 * latest value: [8-byte id][8-byte timestamp][data]
 * </pre>
 *
 * The latest value repeats id and timestamp so that {@code latest} builds each event without a second read; the
 * name and tenant come from the key.
 */
final class EventCodec {

    private EventCodec() {
    }

    static byte[] eventValue(long timestamp, byte[] name, byte[] data) {
        return ByteBuffer.allocate(Long.BYTES + Integer.BYTES + name.length + data.length)
                .putLong(timestamp)
                .putInt(name.length)
                .put(name)
                .put(data)
                .array();
    }

    static Event decodeEvent(String tenant, long id, byte[] value) {
        ByteBuffer buffer = ByteBuffer.wrap(value);
        long timestamp = buffer.getLong();
        byte[] name = new byte[buffer.getInt()];
        buffer.get(name);
        byte[] data = new byte[buffer.remaining()];
        buffer.get(data);
        return new Event(id, tenant, new String(name, UTF_8), timestamp, data);
    }

    /** The bytes of a latest-view value before its data: the id and the timestamp. */
    static final int LATEST_HEADER_BYTES = 2 * Long.BYTES;

    static byte[] latestValue(long id, long timestamp, byte[] data) {
        return ByteBuffer.allocate(LATEST_HEADER_BYTES + data.length)
                .putLong(id)
                .putLong(timestamp)
                .put(data)
                .array();
    }

    static Event decodeLatest(String tenant, String name, byte[] value) {
        ByteBuffer buffer = ByteBuffer.wrap(value);
        long id = buffer.getLong();
        long timestamp = buffer.getLong();
        byte[] data = new byte[buffer.remaining()];
        buffer.get(data);
        return new Event(id, tenant, name, timestamp, data);
    }
}
