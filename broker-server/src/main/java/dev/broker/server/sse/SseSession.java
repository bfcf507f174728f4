package dev.broker.server.sse;

import dev.broker.server.auth.Principal;
import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One SSE stream's state, in a channel attribute; every method runs on the channel's event loop.
 *
 * <p>The hand-off from history to live events, without gap or duplicate: the session first joins its tenant on
 * its loop, so every event published from then on is queued here; only then does it read history (the snapshot,
 * or the events after {@code Last-Event-ID}) and write it. Because the store hands events to the feed in id order
 * and only once they are readable, whatever the read missed is in the queue, and whatever is in both has an id
 * not above the last one written — those are dropped. A read may also see events the feed has not handed to this
 * loop yet (the store makes a batch readable before it publishes it), so once history is written the session stays
 * out of the group, dropping deliveries up to the last id written, until the first newer event arrives: only then
 * is it sure the feed has passed its history. A long replay is paced event by event by the channel's
 * writability. If the queue overflows while history is read, it is dropped and the missing events are read from
 * the log instead, so a slow catch-up costs disk reads, never unbounded memory.
 *
 * <p>A snapshot usually comes from the loop's {@link SnapshotCache} instead of a read: one write of shared bytes,
 * then the same hand-off, which then has nothing queued and usually goes live in the same task.
 *
 * <p>A stream that stays unwritable (its unsent data above the high water mark) for {@link #STALL_MILLIS} is
 * closed, whatever its state: one big event or a burst momentarily passing the mark is not a slow consumer.
 */
public final class SseSession {

    private static final System.Logger LOG = System.getLogger(SseSession.class.getName());
    private static final AttributeKey<SseSession> KEY = AttributeKey.valueOf(SseSession.class, "session");

    /** Events read from the log per step of a replay. */
    static final int PAGE_SIZE = 512;
    /** Live events held while history is written; past this the queue is dropped and re-read from the log. */
    static final int MAX_QUEUED = 4096;

    /** How long a stream may stay unwritable before it counts as a slow consumer and is closed. */
    public static final long STALL_MILLIS = 2_000;

    /** JOINING: writing history; CAUGHT_UP: history written, waiting for the feed to pass it; LIVE: in the group. */
    private enum State { JOINING, CAUGHT_UP, LIVE, CLOSED }

    private record Queued(long id, ByteBuf frame) {
    }

    private final Channel channel;
    private final Principal principal;
    private final EventLog log;
    private final LoopSubscribers subscribers;
    /** Created by the first event queued: most streams never need one, and an idle stream should cost little. */
    private ArrayDeque<Queued> queue;
    private State state = State.JOINING;
    /** Its place among its tenant's live streams on the loop (see {@link LiveStreams}); -1 when not live. */
    int liveSlot = -1;
    /** The highest id written to the stream so far (or given as Last-Event-ID). */
    private long lastWrittenId;
    /** Counts queue overflows, so a history read can tell whether it raced one. */
    private int overflows;
    private Runnable whenWritable;
    private ScheduledFuture<?> stallCheck;

    SseSession(Channel channel, Principal principal, EventLog log, LoopSubscribers subscribers) {
        this.channel = channel;
        this.principal = principal;
        this.log = log;
        this.subscribers = subscribers;
    }

    /** The session of a stream channel, or null. */
    public static SseSession of(Channel channel) {
        return channel.attr(KEY).get();
    }

    public Principal principal() {
        return principal;
    }

    Channel channel() {
        return channel;
    }

    /** Starts the stream: snapshot when {@code lastEventId} is null, otherwise replay after it; then live. */
    void start(Long lastEventId) {
        assert channel.eventLoop().inEventLoop() : "SSE session started off its event loop";
        channel.attr(KEY).set(this);
        if (lastEventId == null) {
            if (!subscribers.snapshotFromCache(this)) {
                readSnapshot();
            }
        } else {
            subscribers.join(this);
            lastWrittenId = lastEventId;
            replayPage();
        }
    }

    /** The snapshot the uncached way: join, then read it from the log. */
    void readSnapshot() {
        subscribers.join(this);
        sendSnapshot();
    }

    /**
     * Writes the cached snapshot (ownership taken), whose largest id is {@code lastId}, then goes live; the session
     * has joined in the same task, so nothing is queued yet and the feed has usually passed {@code lastId} already.
     */
    void sendCachedSnapshot(ByteBuf snapshot, long lastId) {
        assert state == State.JOINING && (queue == null || queue.isEmpty());
        if (snapshot.isReadable()) {
            channel.write(snapshot, channel.voidPromise());
        } else {
            snapshot.release();
        }
        lastWrittenId = lastId;
        goLive();
    }

    private void sendSnapshot() {
        int overflowsBefore = overflows;
        onLoop(log.latest(principal.tenant()), events -> writeNewer(events, 0, () -> {
            // The snapshot reflects every event up to its largest id, so a replay (if needed) starts there.
            if (overflows != overflowsBefore) {
                whenWritable(this::replayPage);
            } else {
                goLive();
            }
        }));
    }

    private void replayPage() {
        int overflowsBefore = overflows;
        onLoop(subscribers.after(principal.tenant(), lastWrittenId, PAGE_SIZE), events -> writeNewer(events, 0, () -> {
            if (events.size() == PAGE_SIZE || overflows != overflowsBefore) {
                whenWritable(this::replayPage);
            } else {
                goLive();
            }
        }));
    }

    /** Writes the events above lastWrittenId from {@code from} on while the channel is writable, then {@code done}. */
    private void writeNewer(List<Event> events, int from, Runnable done) {
        for (int i = from; i < events.size(); i++) {
            if (!channel.isWritable()) {
                channel.flush();
                int next = i;
                whenWritable(() -> writeNewer(events, next, done));
                return;
            }
            Event event = events.get(i);
            if (event.id() > lastWrittenId) {
                channel.write(SseFrames.encode(channel.alloc(), event), channel.voidPromise());
                lastWrittenId = event.id();
            }
        }
        channel.flush();
        done.run();
    }

    /**
     * Writes what was queued during the catch-up (skipping what history already covered); the session joins the
     * group with the first delivery newer than everything written (see {@link #enqueue}).
     */
    private void goLive() {
        Queued queued;
        while (queue != null && (queued = queue.poll()) != null) {
            if (queued.id > lastWrittenId) {
                channel.write(queued.frame, channel.voidPromise());
                lastWrittenId = queued.id;
            } else {
                queued.frame.release();
            }
        }
        queue = null; // a live stream is fed by the group from now on
        channel.flush();
        if (subscribers.feedHasPassed(lastWrittenId)) {
            // The common case: no delivery of what history covered is still on its way.
            state = State.LIVE;
            subscribers.promote(this);
        } else {
            state = State.CAUGHT_UP;
        }
    }

    /** Whether history is written and the session waits for the feed to pass it (it gets heartbeats then too). */
    boolean caughtUp() {
        return state == State.CAUGHT_UP;
    }

    /** A live event published while the session catches up (frame ownership taken). */
    void enqueue(long id, ByteBuf frame) {
        if (state == State.CAUGHT_UP) {
            if (id <= lastWrittenId) {
                // Already written from history: the feed is still catching up with the read.
                frame.release();
                return;
            }
            channel.writeAndFlush(frame, channel.voidPromise());
            lastWrittenId = id;
            state = State.LIVE;
            subscribers.promote(this);
            return;
        }
        if (queue == null) {
            queue = new ArrayDeque<>();
        }
        if (queue.size() >= MAX_QUEUED) {
            releaseQueue();
            overflows++;
        }
        queue.add(new Queued(id, frame));
    }

    /**
     * Paced writes continue when the channel drains; a stream that stays unwritable for {@link #STALL_MILLIS} is a
     * slow consumer and is closed (it resumes with Last-Event-ID).
     */
    void writabilityChanged() {
        if (channel.isWritable()) {
            if (stallCheck != null) {
                stallCheck.cancel(false);
                stallCheck = null;
            }
            Runnable next = whenWritable;
            whenWritable = null;
            if (next != null) {
                next.run();
            }
        } else if (state != State.CLOSED && stallCheck == null) {
            stallCheck = channel.eventLoop().schedule(() -> {
                stallCheck = null;
                if (!channel.isWritable() && state != State.CLOSED) {
                    LOG.log(Level.DEBUG, "closing slow SSE consumer {0}", channel.remoteAddress());
                    channel.close();
                }
            }, STALL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    void closed() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        whenWritable = null;
        if (stallCheck != null) {
            stallCheck.cancel(false);
            stallCheck = null;
        }
        releaseQueue();
        subscribers.leave(this);
    }

    private void whenWritable(Runnable step) {
        if (channel.isWritable()) {
            step.run();
        } else {
            whenWritable = step;
        }
    }

    private void releaseQueue() {
        Queued queued;
        while (queue != null && (queued = queue.poll()) != null) {
            queued.frame.release();
        }
    }

    private void onLoop(CompletableFuture<List<Event>> read, java.util.function.Consumer<List<Event>> then) {
        read.whenCompleteAsync((events, failure) -> {
            if (state == State.CLOSED) {
                return;
            }
            if (failure != null) {
                LOG.log(Level.ERROR, "reading history for an SSE stream failed; closing it", failure);
                channel.close();
                return;
            }
            then.accept(events);
        }, channel.eventLoop());
    }
}
