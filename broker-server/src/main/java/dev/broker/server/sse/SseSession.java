package dev.broker.server.sse;

import dev.broker.server.auth.Principal;
import dev.broker.storage.Event;
import dev.broker.storage.HistoryTrimmedException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One SSE stream's state, in a channel attribute; every method runs on the channel's event loop. It follows the
 * package's hand-off rule: catch its loop up, then history (a cached snapshot, a snapshot read, or a replay after
 * {@code Last-Event-ID}), then live.
 *
 * <p>A store read may first wait for room in the server's {@link HistoryBudget}; the session joins its tenant's group
 * only when its read is issued (or when it shares one), so a waiting session holds nothing. While it writes history
 * from a store read, the session has joined its tenant's group, so live deliveries are queued here; once history is written, the queue is written minus what history covered. If the queue overflows,
 * it is dropped and the missing events are read from the log instead, so a slow catch-up costs disk reads, never
 * unbounded memory. A long replay is paced event by event by the channel's writability. A read may be ahead of the
 * loop's feed: the session then waits, dropping deliveries up to the last id written, until the first newer one
 * arrives (state CAUGHT_UP), and only then goes live.
 *
 * <p>A stream that stays unwritable (its unsent data above the high water mark) for {@link #STALL_MILLIS} is
 * closed, whatever its state: one big event or a burst momentarily passing the mark is not a slow consumer.
 */
public final class SseSession {

    private static final System.Logger LOG = System.getLogger(SseSession.class.getName());
    private static final AttributeKey<SseSession> KEY = AttributeKey.valueOf(SseSession.class, "session");

    /** Live events held while history is written; past this the queue is dropped and re-read from the log. */
    static final int MAX_QUEUED = 4096;

    /** How long a stream may stay unwritable before it counts as a slow consumer and is closed. */
    public static final long STALL_MILLIS = 2_000;

    /**
     * OPENED: waiting for a cached snapshot; JOINING: writing history; CAUGHT_UP: history written, waiting for the
     * feed to pass it; LIVE: fed by the group.
     */
    private enum State { OPENED, JOINING, CAUGHT_UP, LIVE, CLOSED }

    private record Queued(long id, ByteBuf frame) {
    }

    private final Channel channel;
    private final Principal principal;
    private final LoopDelivery delivery;
    private final History history;
    /** Created by the first event queued: most streams never need one, and an idle stream should cost little. */
    private ArrayDeque<Queued> queue;
    private State state = State.OPENED;
    /** Its place among its tenant's live streams on the loop (see {@link LiveStreams}); -1 when not live. */
    int liveSlot = -1;
    /** The highest id written to the stream so far (or given as Last-Event-ID). */
    private long lastWrittenId;
    /** Counts queue overflows, so a history read can tell whether it raced one. */
    private int overflows;
    /** The store read the session waits for or writes, until it is done with it. */
    private History.Read reading;
    private Runnable whenWritable;
    private ScheduledFuture<?> stallCheck;

    SseSession(Channel channel, Principal principal, LoopDelivery delivery, History history) {
        this.channel = channel;
        this.principal = principal;
        this.delivery = delivery;
        this.history = history;
    }

    /** The session of a stream channel, or null. */
    public static SseSession of(Channel channel) {
        return channel.attr(KEY).get();
    }

    public Principal principal() {
        return principal;
    }

    String tenant() {
        return principal.tenant();
    }

    Channel channel() {
        return channel;
    }

    /** Starts the stream: snapshot when {@code lastEventId} is null, otherwise replay after it; then live. */
    void start(Long lastEventId) {
        assert channel.eventLoop().inEventLoop() : "SSE session started off its event loop";
        channel.attr(KEY).set(this);
        delivery.stats.opened(channel);
        // The hand-off rule's step 2: from here on the loop reflects every insert answered before this request.
        delivery.catchUp();
        delivery.open(this);
        history.opened(tenant());
        if (lastEventId == null) {
            startFromSnapshot();
        } else if (delivery.feedHasPassed(lastEventId)) {
            resumeAfter(lastEventId);
        } else {
            // Ahead of the loop: an id of a batch on its way to the feed, or one the server never issued (a client
            // that outlived a restore from backup, a made-up id), which would leave the stream silent until the
            // ids passed it. The store tells which; never issued means no resume: the snapshot instead.
            onLoop(history.lastIssuedId(), lastIssued -> {
                if (lastEventId > lastIssued) {
                    startFromSnapshot();
                } else {
                    resumeAfter(lastEventId);
                }
            });
        }
    }

    private void resumeAfter(long lastEventId) {
        lastWrittenId = lastEventId;
        replayPage();
    }

    private void startFromSnapshot() {
        CompletableFuture<History.CachedSnapshot> cached = history.cachedSnapshot(tenant());
        delivery.stats.snapshotFromCache(cached != null && cached.isDone() && !cached.isCompletedExceptionally());
        if (cached == null) {
            readSnapshot();
            return;
        }
        cached.whenComplete((snapshot, failure) -> {
            if (state == State.CLOSED) {
                if (snapshot != null) {
                    snapshot.frames().release();
                }
            } else if (failure != null) {
                if (!(failure instanceof History.Refused)) {
                    delivery.stats.historyFailed();
                }
                channel.close();
            } else if (snapshot == null) {
                readSnapshot();
            } else {
                join();
                writeCachedSnapshot(snapshot);
            }
        });
    }

    private void join() {
        state = State.JOINING;
        delivery.join(this);
    }

    /** Joins before the first store read is issued for the session (later reads find it joined). */
    private void joinForRead() {
        if (state == State.OPENED) {
            join();
        }
    }

    /**
     * Writes a cached snapshot (ownership taken), then goes live; the session joined in the same task, so nothing
     * is queued, and the feed has usually passed the snapshot already.
     */
    private void writeCachedSnapshot(History.CachedSnapshot snapshot) {
        if (snapshot.frames().isReadable()) {
            channel.write(snapshot.frames(), channel.voidPromise());
        } else {
            snapshot.frames().release();
        }
        lastWrittenId = snapshot.lastId();
        goLive();
    }

    /**
     * The snapshot the uncached way: read from the log (a read shared with the tenant's other streams on the loop
     * when it can be), joining just before the read is issued.
     */
    private void readSnapshot() {
        int overflowsBefore = overflows;
        read(history.latest(tenant(), this::joinForRead), page -> {
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
        read(history.after(tenant(), lastWrittenId, this::joinForRead), page -> {
            if (page.more() || overflows != overflowsBefore) {
                whenWritable(this::replayPage);
            } else {
                goLive();
            }
        });
    }

    /**
     * Once the read is done, writes its events above lastWrittenId in turns, gives the read back, then goes on with
     * {@code then}; the read is held until then, or until the close.
     */
    private void read(History.Read read, Consumer<History.Page> then) {
        reading = read;
        onLoop(read.page(), page -> inTurn(() -> writeNewer(page.events(), 0, () -> {
            doneReading();
            then.accept(page);
        })));
    }

    private void doneReading() {
        if (reading != null) {
            reading.done();
            reading = null;
        }
    }

    /**
     * Writes the events above lastWrittenId from {@code from} on while the channel is writable, then {@code done}.
     * Each slice ends when the channel turns unwritable (its high water mark); the next waits for the channel to
     * drain and then for its turn among the loop's streams writing history (see {@link HistoryTurns}).
     */
    private void writeNewer(List<Event> events, int from, Runnable done) {
        for (int i = from; i < events.size(); i++) {
            if (!channel.isWritable()) {
                channel.flush();
                int next = i;
                afterSlice(() -> writeNewer(events, next, done));
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
     * Writes what was queued during the catch-up (skipping what history already covered), then goes live if the
     * feed has passed everything written, else waits for it (see {@link #enqueue}).
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
        if (delivery.feedHasPassed(lastWrittenId)) {
            // The common case: no delivery of what history covered is still on its way.
            state = State.LIVE;
            delivery.goLive(this);
        } else {
            state = State.CAUGHT_UP;
        }
    }

    /** Whether history is written and the session waits for the feed to pass it (it gets heartbeats then too). */
    boolean caughtUp() {
        return state == State.CAUGHT_UP;
    }

    /** A live event delivered while the session writes history or waits for the feed (frame ownership taken). */
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
            delivery.goLive(this);
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

    void heartbeat() {
        channel.writeAndFlush(SseFrames.HEARTBEAT.duplicate(), channel.voidPromise());
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
                    delivery.stats.slowConsumerClosed();
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
        // A read waited for leaves its queue; a read being written goes back to the budget with its last stream.
        doneReading();
        delivery.leave(this);
        history.closed(tenant());
    }

    /** The next slice of a history, once the channel is writable and in its turn. */
    private void afterSlice(Runnable slice) {
        whenWritable(() -> inTurn(slice));
    }

    /**
     * Runs a slice of history writing in its turn with the loop's other streams, unless closed by then; a slice that
     * fails closes the stream.
     */
    private void inTurn(Runnable slice) {
        history.takeTurn(() -> {
            if (state == State.CLOSED) {
                return;
            }
            try {
                slice.run();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "writing history to an SSE stream failed; closing it", e);
                channel.close();
            }
        });
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

    /**
     * Continues with the result on the loop; a failure — of the read, or of what follows it — closes the stream
     * (the client resumes with Last-Event-ID) rather than leave it hanging.
     */
    private <T> void onLoop(CompletableFuture<T> read, Consumer<T> then) {
        read.whenCompleteAsync((result, thrown) -> {
            if (state == State.CLOSED) {
                return;
            }
            Throwable failure = thrown instanceof CompletionException && thrown.getCause() != null
                    ? thrown.getCause() : thrown;
            if (failure instanceof History.Refused) {
                LOG.log(Level.DEBUG, "too many SSE streams wait for history; closing {0}", channel.remoteAddress());
                channel.close();
                return;
            }
            if (failure instanceof HistoryTrimmedException) {
                // Retention removed history under a replay: no gap is written; the reconnect gets the snapshot.
                LOG.log(Level.DEBUG, "history removed under an SSE replay; closing {0}", channel.remoteAddress());
                channel.close();
                return;
            }
            if (failure != null) {
                // Counted, and reported together by the operator log: a store fault would log one line per stream.
                LOG.log(Level.DEBUG, "reading history for an SSE stream failed; closing it", failure);
                delivery.stats.historyFailed();
                channel.close();
                return;
            }
            try {
                then.accept(result);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "writing history to an SSE stream failed; closing it", e);
                channel.close();
            }
        }, channel.eventLoop());
    }
}
