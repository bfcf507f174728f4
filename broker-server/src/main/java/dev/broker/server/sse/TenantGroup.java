package dev.broker.server.sse;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One tenant's streams on one event loop, for the delivery part: the live group, the streams still writing their
 * history, and the burst of events the live group will get at the next drain. Touched only on its loop.
 *
 * <p>Every stream is in exactly one place: {@code opened} (waiting for its history part to answer), {@code joining}
 * (writing history; deliveries are queued for it), {@code newcomers} (caught up while a burst was pending; gets the
 * rest of that burst at the drain) or {@code live}.
 */
final class TenantGroup {

    /** A stream that went live at {@code offset} bytes into the pending burst: it has everything before it. */
    private record Newcomer(SseSession session, int offset, int frames) {
    }

    final String tenant;
    private final Set<SseSession> opened = new LinkedHashSet<>();
    private final List<SseSession> joining = new ArrayList<>(2);
    private final List<Newcomer> newcomers = new ArrayList<>(0);
    private final LiveStreams live = new LiveStreams();
    /**
     * The frames delivered since the last drain, concatenated: the whole burst goes to each live stream as one
     * buffer (one outbound entry, one iovec), so that N events cost each stream one write, not N.
     */
    private ByteBuf burst;
    private int burstFrames;

    TenantGroup(String tenant) {
        this.tenant = tenant;
    }

    /** A new stream, before it knows where its history comes from. */
    void open(SseSession session) {
        opened.add(session);
    }

    /** The stream is about to write history: deliveries from now on are queued for it. */
    void join(SseSession session) {
        opened.remove(session);
        joining.add(session);
    }

    /**
     * The stream has written every event delivered so far (its history and its queue): it joins the live group at
     * the current end of the burst, and gets what follows at the next drain.
     */
    void goLive(SseSession session) {
        joining.remove(session);
        if (burst == null) {
            live.add(session);
        } else {
            newcomers.add(new Newcomer(session, burst.readableBytes(), burstFrames));
        }
    }

    void leave(SseSession session) {
        if (!opened.remove(session) && !joining.remove(session)) {
            live.remove(session);
            newcomers.removeIf(newcomer -> newcomer.session == session);
        }
    }

    boolean isEmpty() {
        return live.isEmpty() && newcomers.isEmpty() && joining.isEmpty() && opened.isEmpty();
    }

    /**
     * One delivered event (the frame is not taken): into the burst for the live group, and queued for each stream
     * writing its history. Returns whether the burst was empty before, so the caller can note the group for the
     * drain.
     */
    boolean deliver(long id, ByteBuf frame) {
        boolean started = false;
        if (!live.isEmpty() || !newcomers.isEmpty()) {
            started = burst == null;
            addToBurst(frame.retain());
        }
        // After the burst, and over a copy: a stream caught up by this delivery writes the frame itself and goes
        // live at the burst's end, past it.
        if (!joining.isEmpty()) {
            for (SseSession session : joining.toArray(new SseSession[0])) {
                session.enqueue(id, frame.retainedDuplicate());
            }
        }
        return started;
    }

    /**
     * At the drain: the burst to the live group, its rest to each newcomer (a slice of the same bytes), and the
     * newcomers into the live group. Counts the deliveries once per burst, not per write.
     */
    void drainTo(FanOuts fanOuts, SseStats stats) {
        ByteBuf taken = burst;
        int frames = burstFrames;
        burst = null;
        burstFrames = 0;
        if (taken != null) {
            int length = taken.readableBytes();
            if (!live.isEmpty()) {
                SseSession[] targets = live.snapshot();
                stats.delivered((long) frames * targets.length, (long) length * targets.length);
                fanOuts.add(taken.retainedDuplicate(), targets);
            }
            for (Newcomer newcomer : newcomers) {
                if (newcomer.offset < length) {
                    stats.delivered(frames - newcomer.frames, length - newcomer.offset);
                    fanOuts.add(taken.retainedSlice(taken.readerIndex() + newcomer.offset, length - newcomer.offset),
                            new SseSession[] {newcomer.session});
                }
            }
            taken.release();
        }
        for (Newcomer newcomer : newcomers) {
            live.add(newcomer.session);
        }
        newcomers.clear();
    }

    /** Writes a heartbeat to every stream that has written its history or waits for it to begin. */
    void heartbeat() {
        // Waiting for a cache to fill or for room in the history budget, which may take a while behind a proxy.
        for (SseSession session : opened) {
            session.heartbeat();
        }
        if (!live.isEmpty()) {
            live.writeAndFlush(SseFrames.HEARTBEAT.duplicate());
        }
        for (Newcomer newcomer : newcomers) {
            newcomer.session.heartbeat();
        }
        for (SseSession session : joining) {
            if (session.caughtUp()) {
                session.heartbeat();
            }
        }
    }

    /** Every stream of the tenant on this loop, wherever it stands. */
    void forEachSession(Consumer<SseSession> action) {
        opened.forEach(action);
        joining.forEach(action);
        newcomers.forEach(newcomer -> action.accept(newcomer.session));
        live.forEach(action);
    }

    /** Frees a pending burst (shutdown). */
    void release() {
        if (burst != null) {
            burst.release();
            burst = null;
            burstFrames = 0;
        }
    }

    /** Adds a frame (ownership taken); its indexes are left alone, as its bytes are shared with other streams. */
    private void addToBurst(ByteBuf frame) {
        if (burst == null) {
            burst = frame;
        } else {
            if (burstFrames == 1) {
                ByteBuf first = burst;
                burst = frame.alloc().directBuffer(Math.max(1024, 4 * (first.readableBytes() + frame.readableBytes())));
                burst.writeBytes(first, first.readerIndex(), first.readableBytes());
                first.release();
            }
            burst.writeBytes(frame, frame.readerIndex(), frame.readableBytes());
            frame.release();
        }
        burstFrames++;
    }
}
