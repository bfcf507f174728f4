/**
 * Storage in NATS JetStream, for several Broker servers (edges) sharing one truth; nothing is kept on local disk.
 *
 * <h2>Layout</h2>
 * <ul>
 *   <li>Stream {@code <prefix>_events}, subjects {@code <prefix>.ev.<tenant token>.<name token>}
 *       ({@link dev.broker.storage.jetstream.SubjectTokens}: any string, reversibly, as one token), file storage,
 *       limits retention with no limits. Payload: the event's data, unchanged; header {@code Broker-Time}: the
 *       time the appending edge stored it. Id: the stream sequence, one counter for all tenants and edges.</li>
 *   <li>Key-value bucket {@code <prefix>_users}: key the username's token, value id, tenant, password hash and
 *       revoked flag in the embedded store's layout.</li>
 * </ul>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>An append or user write completes once JetStream acknowledged it: stored on a quorum of the stream's
 *       replicas, that is written to their files; they fsync on their own interval (nats-server 2.9: every two
 *       minutes, fixed; newer servers offer {@code sync_interval: always}). So an acknowledged write survives the
 *       crash of any NATS server processes (the operating system holds the bytes) and the power loss of a
 *       minority of the machines, not the power loss of a majority within that interval.</li>
 *   <li>The event feed and the users' change feed are ordered consumers that each server runs from the sequence
 *       after the last one at open: every change of every server, in stream order, once, resumed after an outage
 *       from the last sequence delivered (no gap, no duplicate), within about three seconds of NATS answering.</li>
 *   <li>Reads see every acknowledged write: JetStream runs a read's one-replica consumer on any of the stream's
 *       servers, possibly one that lags, so snapshots and short pages are completed from the stream's leader, and
 *       users are looked up on the bucket's leader. Only the listing of users reads whatever replica its consumer
 *       lands on, and may miss a user created a moment before.</li>
 *   <li>While the client is disconnected, appends fail at once with
 *       {@link dev.broker.storage.StorageUnavailableException} and {@code health()} says why; the client
 *       reconnects by itself, forever.</li>
 * </ul>
 *
 * <h2>Costs and limits</h2>
 * <ul>
 *   <li>Every server receives every tenant's events (one consumer of the whole stream).</li>
 *   <li>Each {@code latest} or {@code after} creates and deletes a short-lived consumer and asks the leader once
 *       more; nats-server handles consumer creations one at a time (about 180 snapshot reads per second measured on
 *       a shared 2-core machine, against about 12,000 on the embedded store).</li>
 *   <li>Listing users reads the whole bucket for every page: linear in the number of users.</li>
 *   <li>An event must fit the servers' {@code max_payload} (1 MB by default; Broker's bodies go up to 1 MiB, so
 *       raise it, say to 8MB), and tenant plus event name must fit a subject of 3,900 characters once
 *       encoded.</li>
 * </ul>
 */
package dev.broker.storage.jetstream;
