package dev.broker.bench.load;

import io.netty.buffer.ByteBufAllocator;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * {@code reconnect}: a stream holding the latest events of S names; N subscribers take their snapshot, then all drop
 * (RST) and reconnect at once, twice:
 * <ol>
 *   <li>without {@code Last-Event-ID}: each must get the snapshot again (S events);</li>
 *   <li>after M new events were published while they were away, with {@code Last-Event-ID}: each must get exactly
 *       the M events it missed.</li>
 * </ol>
 * Reports, for each, the time from the first reconnect until every subscriber had all its events, and percentiles of
 * the per-subscriber times. Nchan's analogue of the snapshot is its channel buffer, replayed to new subscribers
 * ({@code nchan_subscriber_first_message oldest}).
 */
final class ReconnectMode extends Scenario {

    ReconnectMode(Options options, PrintStream progress) {
        super(options, progress);
    }

    @Override
    String mode() {
        return "reconnect";
    }

    @Override
    Result run() throws Exception {
        int subs = options.integer("subs", 100);
        int names = options.integer("names", 100);
        int missed = options.integer("missed", 10);
        int size = options.integer("size", 100);
        double timeout = options.decimal("timeout", 60);
        options.rejectUnknown();

        Result result = base().put("subs", subs).put("names", names).put("missed", missed);
        Target.Stream stream = target.newStream("reconnect");
        currentStream = stream;
        try (LoadClient client = newClient()) {
            Publishers publishers = Publishers.open(client, 4, 16).get(10, TimeUnit.SECONDS);
            log("publishing the snapshot: " + names + " event names");
            publish(publishers, stream, names, 0, size);

            List<Subscriber> subscribers = subscribers(subs);
            ProcStats.Sample initialBefore = serverSample();
            ClientTls.Counts tlsBefore = client.tlsCounts();
            Round initial = round(client, subscribers, s -> null, names, timeout);
            ProcStats.Sample initialAfter = serverSample();
            result.put("initial_all_s", initial.allSeconds);
            // Over TLS the first round's handshakes are all full ones, the reconnects' resume: the server's CPU
            // per connection in each round (the same snapshot served) tells the two kinds of handshake apart.
            putPerConnection(result, "initial", initialBefore, initialAfter, client, tlsBefore, subs);
            log(String.format("initial snapshot: %d/%d complete in %.3f s", initial.complete, subs, initial.allSeconds));

            client.dropAll(subscribers);
            ProcStats.Sample before = serverSample();
            ProcStats.Sample clientBefore = self.sample();
            MachineStats.Sample machineBefore = MachineStats.sample();
            tlsBefore = client.tlsCounts();
            Round snapshot = round(client, subscribers, s -> null, names, timeout);
            ProcStats.Sample after = serverSample();
            putPerConnection(result, "snapshot", before, after, client, tlsBefore, subs);
            ProcStats.Sample clientAfter = self.sample();
            putMachine(result, machineBefore, MachineStats.sample(), before, after, clientBefore, clientAfter);
            // On a shared machine the storm's wall time depends on the client's side of the handshakes too.
            result.put("snapshot_client_cpu_s", clientAfter.cpuSince(clientBefore));
            log(String.format("reconnect, snapshot: %d/%d complete in %.3f s", snapshot.complete, subs, snapshot.allSeconds));
            snapshot.put(result, "snapshot");
            if (before != null) {
                result.put("snapshot_server_cpu_s", after.cpuSince(before));
            }

            client.dropAll(subscribers);
            publish(publishers, stream, missed, names, size);
            before = serverSample();
            tlsBefore = client.tlsCounts();
            Round resume = round(client, subscribers, Subscriber::lastEventId, missed, timeout);
            after = serverSample();
            putPerConnection(result, "resume", before, after, client, tlsBefore, subs);
            log(String.format("reconnect with Last-Event-ID: %d/%d complete in %.3f s", resume.complete, subs, resume.allSeconds));
            resume.put(result, "resume");
            if (before != null) {
                result.put("resume_server_cpu_s", after.cpuSince(before));
            }
            client.dropAll(subscribers);
            publishers.loop().submit(publishers::close).get();
            return result;
        }
    }

    /**
     * The server's CPU per connection over one round, and (over TLS) the round's handshakes, how many resumed,
     * and the server's CPU per handshake.
     */
    private void putPerConnection(Result result, String prefix, ProcStats.Sample before, ProcStats.Sample after,
                                  LoadClient client, ClientTls.Counts tlsBefore, int subs) {
        double cpu = before == null ? -1 : after.cpuSince(before);
        if (cpu >= 0) {
            result.put(prefix + "_server_cpu_us_per_conn", cpu / subs * 1e6);
        }
        if (tlsBefore != null) {
            ClientTls.Counts round = client.tlsCounts().since(tlsBefore);
            round.put(result, prefix + "_");
            if (cpu >= 0 && round.handshakes() > 0) {
                result.put(prefix + "_server_cpu_us_per_handshake", cpu / round.handshakes() * 1e6);
            }
        }
    }

    /** Publishes {@code count} events named {@code n<first>...} and waits until all are acknowledged. */
    private void publish(Publishers publishers, Target.Stream stream, int count, int first, int size) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(count);
        AtomicInteger next = new AtomicInteger();
        Runnable fill = () -> {
            while (next.get() < count && publishers.hasRoom()) {
                int i = next.getAndIncrement();
                publishers.offer(stream.publishRequest(ByteBufAllocator.DEFAULT, "n" + (first + i),
                        Payload.json(MicroClock.now(), first + i, size)), (status, sent) -> {
                    if (status <= 0 || !stream.accepted(status)) {
                        done.completeExceptionally(Publishers.failure(status));
                    } else if (remaining.decrementAndGet() == 0) {
                        done.complete(null);
                    }
                });
            }
        };
        publishers.onReadComplete(fill);
        publishers.loop().execute(() -> {
            fill.run();
            publishers.flush();
        });
        if (count > 0) {
            done.get(60, TimeUnit.SECONDS);
        }
    }

    private static final class Round {
        int complete;
        double allSeconds;
        long[] perSubscriberNanos;
        long extra;
        long disconnects;
        int openFailed;

        void put(Result result, String prefix) {
            result.put(prefix + "_complete", complete)
                    .put(prefix + "_all_s", allSeconds)
                    .put(prefix + "_p50_s", percentile(50))
                    .put(prefix + "_p99_s", percentile(99))
                    .put(prefix + "_extra_events", extra)
                    .put(prefix + "_disconnects", disconnects)
                    .put(prefix + "_open_failed", openFailed);
        }

        double percentile(double p) {
            if (perSubscriberNanos.length == 0) {
                return 0;
            }
            long[] sorted = perSubscriberNanos.clone();
            Arrays.sort(sorted);
            int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e9;
        }
    }

    /** Connects every subscriber at once and waits until each has received {@code expected} events. */
    private Round round(LoadClient client, List<Subscriber> subscribers, Function<Subscriber, String> lastEventId,
                        int expected, double timeout) throws Exception {
        int n = subscribers.size();
        long[] doneAt = new long[n];
        AtomicInteger remaining = new AtomicInteger(n);
        AtomicLong lastDone = new AtomicLong();
        LongAdder disconnects = new LongAdder();
        CompletableFuture<Void> all = new CompletableFuture<>();
        String[] resumeFrom = new String[n];
        for (Subscriber s : subscribers) {
            s.done = false;
            resumeFrom[s.index] = lastEventId.apply(s);
        }
        Subscriber.Listener listener = new Subscriber.Listener() {
            @Override
            public void onEvent(Subscriber subscriber, long publishMicros, long seq) {
                if (!subscriber.done && subscriber.events >= expected) {
                    subscriber.done = true;
                    long now = System.nanoTime();
                    doneAt[subscriber.index] = now;
                    lastDone.accumulateAndGet(now, Math::max);
                    if (remaining.decrementAndGet() == 0) {
                        all.complete(null);
                    }
                }
            }

            @Override
            public void onClose(Subscriber subscriber, Throwable cause) {
                disconnects.increment();
            }
        };
        long start = System.nanoTime();
        CompletableFuture<LoadClient.OpenReport> open = client.open(subscribers,
                s -> stream(s, resumeFrom[s.index]), listener, parallel);
        LoadClient.OpenReport report = open.get((long) timeout, TimeUnit.SECONDS);
        if (report.failed() > 0) {
            log(report.failed() + " subscribers could not connect: " + report.firstFailure());
        }
        try {
            all.get((long) timeout, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            log(remaining.get() + " subscribers still incomplete after " + timeout + " s");
        }
        client.quiesce();
        Round round = new Round();
        round.complete = n - remaining.get();
        round.allSeconds = remaining.get() == 0 ? (lastDone.get() - start) / 1e9 : Double.POSITIVE_INFINITY;
        round.perSubscriberNanos = Arrays.stream(doneAt).filter(t -> t > 0).map(t -> t - start).toArray();
        round.disconnects = disconnects.sum();
        round.openFailed = report.failed();
        for (Subscriber s : subscribers) {
            round.extra += Math.max(0, s.events - expected);
        }
        return round;
    }

    private io.netty.buffer.ByteBuf stream(Subscriber subscriber, String lastEventId) {
        return currentStream.subscribeRequest(ByteBufAllocator.DEFAULT, lastEventId);
    }

    private Target.Stream currentStream;
}
