/**
 * Server-Sent Events: the fan-out of new events to open streams, and each stream's history.
 *
 * <h2>Parts</h2>
 * <ul>
 *   <li>{@link dev.broker.server.sse.SseHub}: the one entry point. Encodes each event of the store's feed once and
 *       posts the shared bytes to every event loop; opens streams; closes them on revocation and shutdown.</li>
 *   <li>Per event loop, touched only on that loop (so nothing here takes a lock):
 *     <ul>
 *       <li>{@code LoopDelivery}, the <em>delivery</em> part: the inbox the feed posts to, the timed drain, the
 *           tenants' {@code TenantGroup}s (live streams, streams catching up, the pending burst) and the chunked
 *           {@code FanOuts}.</li>
 *       <li>{@code LoopHistory}, the <em>history</em> part, behind the small {@code History} interface a stream
 *           calls: the tenants' {@code SnapshotCache}s and the one read that fills each, store reads shared by the
 *           streams of a tenant asking for the same history (a snapshot too large to cache, a replay from the
 *           same id), the linger that keeps a cache warm for reconnecting clients, and the turns in which
 *           streams write their histories ({@code HistoryTurns}).</li>
 *     </ul></li>
 *   <li>{@code HistoryBudget}, the one thread-safe part that decides anything, shared by all loops: the bytes that store reads of
 *       history hold across the server. A read takes room before it is issued and gives it back when the last
 *       stream writing it is done or closed; streams whose read finds no room wait, in order, without having
 *       joined their tenant, and past a bounded number of waiting streams a newcomer is closed.</li>
 *   <li>{@code SseSession}: one stream, from its history to live events.</li>
 *   <li>{@link dev.broker.server.sse.SseStats}: server-wide counts for metrics ({@code LongAdder}s every loop adds
 *       to, once per burst and group of streams); nothing reads them back to decide.</li>
 * </ul>
 *
 * <h2>The hand-off rule, and why it holds</h2>
 * A stream opened by a request sent after insert <i>N</i> was answered starts with the latest event of every name
 * of its tenant as of some id <i>M ≥ N</i>, in one write, then carries every event of the tenant with an id above
 * <i>M</i> exactly once, in order. A stream resuming after {@code Last-Event-ID} <i>L</i> carries every event above
 * <i>L</i> exactly once, in order, including every event answered before its request.
 * <ol>
 *   <li><b>Answered means posted.</b> The store hands a batch to the feed, in id order, before it answers the
 *       inserts of the batch, and {@code SseHub} posts each event to every loop's inbox synchronously. So when a
 *       request reaches its loop, every insert this server answered before it is in that loop's inbox or already
 *       taken from it. With a store shared by several servers (NATS JetStream), an insert answered by another
 *       server reaches this one's feed a little later: {@code SseEndpoint} asks the feed's {@code caughtUp()} when
 *       the request arrives and starts the stream, on its loop, only once that completes — every insert answered
 *       by any server before the request has then been posted to every loop. The embedded store's feed is always
 *       caught up, and the stream starts at once, in the same task.</li>
 *   <li><b>Catch up before history.</b> A new stream first makes its loop take its whole inbox into the loop's
 *       state — the snapshot caches, the pending bursts, the queues of streams catching up — without writing to
 *       live streams, whose bursts still leave once per drain interval. From then on that state reflects every
 *       answered insert.</li>
 *   <li><b>Join before reading.</b> A stream that reads the store (a replay, or a snapshot too large to cache)
 *       joins its tenant's group before the read is issued, so every event delivered from then on is queued for
 *       it; the read sees every event readable when it was issued (the store makes a batch readable before it
 *       hands it to the feed). Whatever the read missed is in the queue; whatever is in both has an id not above
 *       the last id written and is dropped. A stream waiting for room in the budget joins only when its read is
 *       issued (it holds no queue meanwhile). Streams share a read if they joined before it was issued, or if
 *       the loop delivered nothing between its issue and their joining — for them it is as if it had been issued
 *       then.</li>
 *   <li><b>A cache is as current as its loop.</b> A cache records every delivery from the moment its filling read
 *       is issued, and merges the read with what it recorded; a cached snapshot served after the catch-up of (2)
 *       includes <i>N</i>, and a stream that waits for a fill caught up before the read was issued or while it
 *       was recording.</li>
 *   <li><b>Go live at a point of the burst.</b> History written up to id <i>M</i>, the stream goes live once the
 *       loop's feed has passed <i>M</i> (a read can be ahead of the feed; until then the stream waits, dropping
 *       deliveries up to <i>M</i>). It joins the live group at the current end of its tenant's pending burst:
 *       every event before that point it has written itself, and at the next drain it gets the rest of the
 *       burst (a slice of the same bytes), then every later burst with the rest of the group.</li>
 * </ol>
 * {@code SseHandOffTest} drives one loop through random interleavings of inserts, connects, resumes, drains and
 * closes and checks every stream against this rule; {@code SseReadYourWritesTest} checks it over real sockets.
 */
package dev.broker.server.sse;
