package dev.broker.server.api;

import dev.broker.server.testing.OnNats;

/** {@link InsertTest}'s cases against a cluster edge: the server over NATS JetStream instead of the embedded database. */
@OnNats
class InsertOnNatsTest extends InsertTest {
}
