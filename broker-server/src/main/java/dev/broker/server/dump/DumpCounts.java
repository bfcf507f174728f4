package dev.broker.server.dump;

/** How many users and events a dump moved. */
public record DumpCounts(long users, long events) {
}
