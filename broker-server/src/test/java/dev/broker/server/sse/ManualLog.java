package dev.broker.server.sse;

import dev.broker.storage.Event;
import dev.broker.storage.EventLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A store whose reads (snapshot or replay) wait for the test to complete them, in the order they were issued. */
final class ManualLog implements EventLog {

    private final List<CompletableFuture<List<Event>>> reads = new ArrayList<>();

    @Override
    public CompletableFuture<Event> append(String tenant, String name, byte[] data) {
        throw new UnsupportedOperationException();
    }

    @Override
    public synchronized CompletableFuture<List<Event>> latest(String tenant) {
        return issued();
    }

    @Override
    public synchronized CompletableFuture<List<Event>> after(String tenant, long afterId, int limit,
                                                             long maxDataBytes) {
        return issued();
    }

    /** As far as the tests using this store go, every id was issued. */
    @Override
    public CompletableFuture<Long> lastIssuedId() {
        return CompletableFuture.completedFuture(Long.MAX_VALUE);
    }

    private CompletableFuture<List<Event>> issued() {
        CompletableFuture<List<Event>> read = new CompletableFuture<>();
        reads.add(read);
        return read;
    }

    synchronized int readCount() {
        return reads.size();
    }

    synchronized CompletableFuture<List<Event>> read(int i) {
        return reads.get(i);
    }
}
