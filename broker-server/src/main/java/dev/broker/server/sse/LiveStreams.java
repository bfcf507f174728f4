package dev.broker.server.sse;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * One tenant's live streams on one event loop. A plain array, touched only on its loop, so a delivery is a retained
 * duplicate and a write per stream, with no lock, no map walk and no future; each session knows its slot, so adding
 * and removing are O(1) even in a storm of thousands of disconnects.
 */
final class LiveStreams {

    private SseSession[] sessions = new SseSession[4];
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    void add(SseSession session) {
        if (size == sessions.length) {
            sessions = Arrays.copyOf(sessions, size * 2);
        }
        session.liveSlot = size;
        sessions[size++] = session;
    }

    void remove(SseSession session) {
        int slot = session.liveSlot;
        if (slot < 0 || slot >= size || sessions[slot] != session) {
            return;
        }
        SseSession last = sessions[--size];
        sessions[slot] = last;
        last.liveSlot = slot;
        sessions[size] = null;
        session.liveSlot = -1;
    }

    /** The streams live now, for a write that spans several tasks (a copy: slots move as streams leave). */
    SseSession[] snapshot() {
        return Arrays.copyOf(sessions, size);
    }

    void forEach(Consumer<SseSession> action) {
        for (int i = 0; i < size; i++) {
            action.accept(sessions[i]);
        }
    }

    /** Writes {@code message} (ownership taken) to every stream, each its own duplicate of the shared bytes. */
    void writeAndFlush(ByteBuf message) {
        try {
            for (int i = 0; i < size; i++) {
                Channel channel = sessions[i].channel();
                channel.writeAndFlush(message.retainedDuplicate(), channel.voidPromise());
            }
        } finally {
            message.release();
        }
    }
}
