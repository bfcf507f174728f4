package dev.broker.bench.load;

import io.netty.channel.Channel;
import java.nio.charset.StandardCharsets;

/**
 * One simulated subscriber, across its connections: what it has seen so far. Written only by its channel's event
 * loop; read by the scenario once the loop has gone quiet (or approximately, for progress).
 */
public final class Subscriber {

    /** What a scenario does with a subscriber's stream; called on the subscriber's event loop. */
    public interface Listener {

        /** The server answered 200 and the stream is open. */
        default void onOpen(Subscriber subscriber) {
        }

        /**
         * One event (a frame with data). {@code publishMicros} and {@code seq} come from the event's data as the
         * load generator wrote it ({@code {"t":<micros>,"s":<seq>,...}}); -1 when the data has another shape.
         */
        void onEvent(Subscriber subscriber, long publishMicros, long seq);

        /** The connection ended (or never opened: {@code cause} says why); not called for {@link #drop()}. */
        default void onClose(Subscriber subscriber, Throwable cause) {
        }
    }

    final int index;
    volatile Channel channel;
    volatile boolean dropping;
    /**
     * The id of the last event received, as the server wrote it (sent back as Last-Event-ID on a resume): kept as
     * bytes, so that a delivery costs no allocation; a String only when asked for.
     */
    private byte[] lastEventId = new byte[24];
    private int lastEventIdLength = -1;
    /** Events received on the current connection. */
    int events;
    /** Events counted by the scenario (for example those of the measured phase). */
    int counted;
    /** Reads of the socket that carried stream bytes on the current connection. */
    int reads;
    long lastEventNanos;
    /** Set by a scenario when the subscriber reached its goal. */
    boolean done;

    Subscriber(int index) {
        this.index = index;
    }

    public int index() {
        return index;
    }

    public String lastEventId() {
        return lastEventIdLength < 0 ? null : new String(lastEventId, 0, lastEventIdLength, StandardCharsets.US_ASCII);
    }

    void lastEventId(byte[] bytes, int from, int length) {
        if (length > lastEventId.length) {
            lastEventId = new byte[length];
        }
        System.arraycopy(bytes, from, lastEventId, 0, length);
        lastEventIdLength = length;
    }

    public int events() {
        return events;
    }

    /** Closes the connection abruptly (RST, no TIME_WAIT), without reporting it as a failure. */
    public void drop() {
        Channel c = channel;
        if (c != null) {
            dropping = true;
            c.close();
        }
    }
}
