package dev.broker.server.sse;

import dev.broker.server.testing.OnNats;

/** {@link SseReadYourWritesTest}'s cases against a cluster edge: the server over NATS JetStream instead of the embedded database. */
@OnNats
class SseReadYourWritesOnNatsTest extends SseReadYourWritesTest {
}
