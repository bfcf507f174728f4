package dev.broker.server.admin;

import dev.broker.server.testing.OnNats;

/** {@link AdminUsersTest}'s cases against a cluster edge: the server over NATS JetStream instead of the embedded database. */
@OnNats
class AdminUsersOnNatsTest extends AdminUsersTest {
}
