package dev.broker.server.auth;

/** An authenticated caller: the user and the tenant whose events they read and write. */
public record Principal(String username, String tenant) {
}
