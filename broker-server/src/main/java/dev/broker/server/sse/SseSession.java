package dev.broker.server.sse;

import dev.broker.server.auth.Principal;
import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One SSE stream's state, in a channel attribute; every method runs on the channel's event loop.
 *
 * <p>The hand-off from history to live events, without gap or duplicate: the session first joins its tenant on
 * its loop, so every event published from then on is queued here; only then does it read history (the snapshot,
 * or the events after {@code Last-Event-ID}) and write it. Because the store hands events to the feed in id order
 * and only once they are readable, whatever the read missed is in the queue, and whatever is in both has an id
 * not above the last one written — those are dropped. A long replay is paged and paced by the channel's
 * writability. If the queue overflows while history is read, it is dropped and the missing events are read from
 * the log instead, so a slow catch-up costs disk reads, never unbounded memory.
 */
public final class SseSession {

    private static final System.Logger LOG = System.getLogger(SseSession.class.getName());
    private static final AttributeKey<SseSession> KEY = AttributeKey.valueOf(SseSession.class, "session");

    /** Events read from the log per step of a replay. */
    static final int PAGE_SIZE = 512;
    /** Live events held while history is written; past this the queue is dropped and re-read from the log. */
    static final int MAX_QUEUED = 4096;

    private enum State { JOINING, LIVE, CLOSED }

    private record Queued(long id, ByteBuf frame) {
    }

    private final Channel channel;
    private final Principal principal;
    private final EventLog log;
    private final LoopSubscribers subscribers;
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    private State state = State.JOINING;
    /** The highest id written to the stream so far (or given as Last-Event-ID). */
    private long lastWrittenId;
    /** Counts queue overflows, so a history read can tell whether it raced one. */
    private int overflows;
    private Runnable whenWritable;

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
        channel.attr(KEY).set(this);
        subscribers.join(this);
        if (lastEventId == null) {
            sendSnapshot();
        } else {
            lastWrittenId = lastEventId;
            replayPage();
        }
    }

    private void sendSnapshot() {
        int overflowsBefore = overflows;
        onLoop(log.latest(principal.tenant()), events -> {
            writeNewer(events);
            // The snapshot reflects every event up to its largest id, so a replay (if needed) starts there.
            if (overflows != overflowsBefore) {
                whenWritable(this::replayPage);
            } else {
                goLive();
            }
        });
    }

    private void replayPage() {
        int overflowsBefore = overflows;
        onLoop(log.after(principal.tenant(), lastWrittenId, PAGE_SIZE), events -> {
            writeNewer(events);
            if (events.size() == PAGE_SIZE || overflows != overflowsBefore) {
                whenWritable(this::replayPage);
            } else {
                goLive();
            }
        });
    }

    private void writeNewer(List<Event> events) {
        for (Event event : events) {
            if (event.id() > lastWrittenId) {
                channel.write(SseFrames.encode(channel.alloc(), event), channel.voidPromise());
                lastWrittenId = event.id();
            }
        }
        channel.flush();
    }

    /** Writes what was queued during the catch-up (skipping what history already covered) and joins the group. */
    private void goLive() {
        Queued queued;
        while ((queued = queue.poll()) != null) {
            if (queued.id > lastWrittenId) {
                channel.write(queued.frame, channel.voidPromise());
                lastWrittenId = queued.id;
            } else {
                queued.frame.release();
            }
        }
        channel.flush();
        state = State.LIVE;
        subscribers.promote(this);
    }

    /** A live event published while the session catches up (frame ownership taken). */
    void enqueue(long id, ByteBuf frame) {
        if (queue.size() >= MAX_QUEUED) {
            releaseQueue();
            overflows++;
        }
        queue.add(new Queued(id, frame));
    }

    /** Live streams that cannot keep up are closed (they resume with Last-Event-ID); catch-ups just wait. */
    void writabilityChanged() {
        if (channel.isWritable()) {
            Runnable next = whenWritable;
            whenWritable = null;
            if (next != null) {
                next.run();
            }
        } else if (state == State.LIVE) {
            LOG.log(Level.DEBUG, "closing slow SSE consumer {0}", channel.remoteAddress());
            channel.close();
        }
    }

    void closed() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        whenWritable = null;
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
        while ((queued = queue.poll()) != null) {
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
