package dev.broker.server.sse;

import dev.broker.server.testing.OnNats;

/** {@link SseSnapshotAndResumeTest}'s cases against a cluster edge: the server over NATS JetStream instead of the embedded database. */
@OnNats
class SseSnapshotAndResumeOnNatsTest extends SseSnapshotAndResumeTest {
}
