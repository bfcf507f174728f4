package dev.broker.storage;

import java.util.Objects;

/**
 * One stored event.
 *
 * @param id        decimal id, strictly increasing within a tenant (the store uses one counter for all tenants)
 * @param tenant    the tenant whose log holds the event
 * @param name      the event name
 * @param timestamp when the event was stored, in Unix milliseconds
 * @param data      the event's data as compact JSON, UTF-8 (the server stores it ASCII-only); never modified
 */
public record Event(long id, String tenant, String name, long timestamp, byte[] data) {

    public Event {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
    }
}
