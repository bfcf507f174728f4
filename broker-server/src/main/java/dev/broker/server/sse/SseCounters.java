package dev.broker.server.sse;

/**
 * Running totals of the fan-out since start: {@code events} taken from the store's feed, and {@code deliveries}
 * to live streams (an event written to three streams is three deliveries; history is not counted).
 */
public record SseCounters(long events, long deliveries) {

    /** The server's totals from two loops': every loop takes every event, each delivers to its own streams. */
    SseCounters plus(SseCounters other) {
        return new SseCounters(Math.max(events, other.events), deliveries + other.deliveries);
    }
}
