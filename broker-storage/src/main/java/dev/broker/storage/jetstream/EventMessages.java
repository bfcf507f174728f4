package dev.broker.storage.jetstream;

import dev.broker.storage.Event;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import java.time.ZonedDateTime;

/**
 * How an event is a JetStream message: the subject {@code <prefix>.ev.<tenant token>.<name token>} (see
 * {@link SubjectTokens}), the data as the payload, unchanged, and the time Broker stored it in the header
 * {@value #TIME_HEADER} (Unix milliseconds, taken by the edge that appended it: the id, the stream sequence, is what
 * orders events, so clocks of different edges only need to be roughly right). The id is the stream sequence.
 */
final class EventMessages {

    static final String TIME_HEADER = "Broker-Time";

    private final String subjectStart;

    EventMessages(JetStreamSettings settings) {
        this.subjectStart = settings.prefix() + ".ev.";
    }

    static Headers headers(long timestamp) {
        return new Headers().put(TIME_HEADER, Long.toString(timestamp));
    }

    /**
     * The event a message of the events stream holds.
     *
     * @throws IllegalArgumentException when the message is not one Broker wrote
     */
    Event decode(Message message) {
        return decode(message.getSubject(), message.metaData().streamSequence(), message.getHeaders(),
                message.getData(), message.metaData().timestamp());
    }

    /**
     * The event of a message of the events stream, from its parts.
     *
     * @throws IllegalArgumentException when the message is not one Broker wrote
     */
    Event decode(String subject, long sequence, Headers headers, byte[] data, ZonedDateTime stored) {
        int dot = subject.indexOf('.', subjectStart.length());
        if (!subject.startsWith(subjectStart) || dot < 0) {
            throw new IllegalArgumentException("a message of the events stream has a subject Broker does not write");
        }
        String tenant = SubjectTokens.decode(subject.substring(subjectStart.length(), dot));
        String name = SubjectTokens.decode(subject.substring(dot + 1));
        return new Event(sequence, tenant, name, timestamp(headers, stored), data == null ? new byte[0] : data);
    }

    /** Broker's header, or JetStream's own time of storage for a message that lacks it. */
    private static long timestamp(Headers headers, ZonedDateTime stored) {
        String time = headers == null ? null : headers.getFirst(TIME_HEADER);
        if (time != null) {
            try {
                return Long.parseLong(time);
            } catch (NumberFormatException e) {
                // fall through to the stream's time
            }
        }
        return stored.toInstant().toEpochMilli();
    }
}
