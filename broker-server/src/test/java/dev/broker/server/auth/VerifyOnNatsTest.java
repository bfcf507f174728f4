package dev.broker.server.auth;

import dev.broker.server.testing.OnNats;

/** {@link VerifyTest}'s cases against a cluster edge: the server over NATS JetStream instead of the embedded database. */
@OnNats
class VerifyOnNatsTest extends VerifyTest {
}
