package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * {@code fanout}: N subscribers on one stream, one publisher inserting R events/s (open loop, paced every
 * millisecond) for a warm-up and then D measured seconds. Each event carries its intended publish time, so the
 * insert→delivery latency includes any queueing in the publisher (no coordinated omission). Reports deliveries/s,
 * the fraction of (acknowledged events × subscribers) delivered, latency percentiles, and the server's CPU per
 * million deliveries over the measured phase.
 */
final class FanoutMode extends Scenario {

    FanoutMode(Options options, PrintStream progress) {
        super(options, progress);
    }

    @Override
    String mode() {
        return "fanout";
    }

    @Override
    Result run() throws Exception {
        int subs = options.integer("subs", 100);
        double rate = options.decimal("rate", 10);
        double duration = options.decimal("duration", 10);
        double warmup = options.decimal("warmup", 2);
        int size = options.integer("size", 100);
        double drainSeconds = options.decimal("drain", 10);
        int pubConns = options.integer("pub-conns", 16);
        int depth = options.integer("pipeline", 4);
        String event = options.string("event", "tick");
        int peerPid = options.integer("peer-pid", 0);
        options.rejectUnknown();
        ProcStats peer = peerPid > 0 ? new ProcStats(peerPid) : null;

        long warmEvents = Math.round(warmup * rate);
        long measuredEvents = Math.max(1, Math.round(duration * rate));
        long totalEvents = warmEvents + measuredEvents;

        Result result = base().put("subs", subs).put("rate", rate).put("duration_s", duration);
        Target.Stream stream = target.newStream("fanout");
        try (LoadClient client = newClient()) {
            LongAdder measured = new LongAdder();
            LongAdder allEvents = new LongAdder();
            LongAdder disconnects = new LongAdder();
            Recorder latency = new Recorder(3);
            Subscriber.Listener listener = new Subscriber.Listener() {
                @Override
                public void onEvent(Subscriber subscriber, long publishMicros, long seq) {
                    allEvents.increment();
                    if (seq >= warmEvents) {
                        subscriber.counted++;
                        measured.increment();
                        if (publishMicros > 0) {
                            latency.recordValue(Math.max(0, MicroClock.now() - publishMicros));
                        }
                    }
                }

                @Override
                public void onClose(Subscriber subscriber, Throwable cause) {
                    disconnects.increment();
                }
            };
            List<Subscriber> subscribers = subscribers(subs);
            log("opening " + subs + " subscribers");
            LoadClient.OpenReport open = client.open(subscribers, s -> stream.subscribeRequest(ByteBufAllocator.DEFAULT, null),
                    listener, parallel).get();
            log(String.format("%d open, %d failed in %.2f s%s", open.opened(), open.failed(), open.nanos() / 1e9,
                    open.firstFailure() == null ? "" : " (" + open.firstFailure() + ")"));
            result.put("subs_open", open.opened()).put("connect_s", open.nanos() / 1e9);
            putTls(result, client);
            Thread.sleep(500); // let the servers finish the streams' hand-off (snapshot → live)

            Publishers publishers = Publishers.open(client, pubConns, depth).get(10, TimeUnit.SECONDS);
            AtomicLong acked = new AtomicLong();
            AtomicLong ackedMeasured = new AtomicLong();
            AtomicLong failedPublishes = new AtomicLong();
            Histogram ackLatency = new Histogram(3);
            CompletableFuture<Void> allSent = new CompletableFuture<>();
            long startNanos = System.nanoTime() + 50_000_000;
            long startMicros = MicroClock.now() + 50_000;
            long[] issued = {0};
            ScheduledFuture<?>[] ticker = new ScheduledFuture<?>[1];
            Runnable tick = () -> {
                long due = Math.min(totalEvents, (long) ((System.nanoTime() - startNanos) / 1e9 * rate) + 1);
                while (issued[0] < due && publishers.hasRoom()) {
                    long seq = issued[0]++;
                    long intendedMicros = startMicros + (long) (seq * 1e6 / rate);
                    ByteBuf request = stream.publishRequest(ByteBufAllocator.DEFAULT, event, Payload.json(intendedMicros, seq, size));
                    publishers.offer(request, (status, sentNanos) -> {
                        if (status > 0 && stream.accepted(status)) {
                            acked.incrementAndGet();
                            if (seq >= warmEvents) {
                                ackedMeasured.incrementAndGet();
                            }
                            ackLatency.recordValue((System.nanoTime() - sentNanos) / 1000);
                        } else {
                            if (failedPublishes.getAndIncrement() == 0) {
                                log("a publish failed with status " + status + (status < 0 ? " (connection lost)" : ""));
                            }
                        }
                    });
                }
                publishers.flush();
                if (issued[0] >= totalEvents && !allSent.isDone()) {
                    allSent.complete(null);
                    ticker[0].cancel(false);
                }
            };
            log(String.format("publishing %.0f events/s: %.1f s warm-up, %.1f s measured", rate, warmup, duration));
            publishers.loop().execute(() -> ticker[0] = publishers.loop().scheduleAtFixedRate(tick,
                    Math.max(0, startNanos - System.nanoTime()), 1_000_000, TimeUnit.NANOSECONDS));

            long measureStart = startNanos + (long) (warmEvents / rate * 1e9);
            sleepUntil(measureStart);
            ProcStats.Sample before = serverSample();
            ProcStats.Sample peerBefore = peer == null ? null : peer.sample();
            MachineStats.Sample machineBefore = MachineStats.sample();
            ProcStats.Sample clientMeasureStart = self.sample();
            long unsent = 0;
            try {
                // A server that cannot absorb the rate holds the publisher back; give it a bounded grace period.
                allSent.get((long) (warmup + duration) + 30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                unsent = publishers.loop().submit(() -> {
                    ticker[0].cancel(false);
                    return totalEvents - issued[0];
                }).get();
                log(unsent + " events could not be sent in time: the server did not keep up with the publisher");
            }
            long sentAll = System.nanoTime();
            long drainEnd = sentAll + (long) (drainSeconds * 1e9);
            while (System.nanoTime() < drainEnd) {
                int inFlight = publishers.loop().submit(publishers::inFlight).get();
                if (inFlight == 0 && measured.sum() >= ackedMeasured.get() * (long) open.opened()) {
                    break;
                }
                Thread.sleep(20);
            }
            ProcStats.Sample after = serverSample();
            ProcStats.Sample peerAfter = peer == null ? null : peer.sample();
            ProcStats.Sample clientAfter = self.sample();
            MachineStats.Sample machineAfter = MachineStats.sample();
            publishers.loop().submit(publishers::close).get();
            client.quiesce();

            long lastDelivery = measureStart;
            long reads = 0;
            long events = 0;
            int complete = 0;
            for (Subscriber s : subscribers) {
                lastDelivery = Math.max(lastDelivery, s.lastEventNanos);
                reads += s.reads;
                events += s.events;
                if (s.counted >= ackedMeasured.get()) {
                    complete++;
                }
            }
            long deliveries = measured.sum();
            long expected = ackedMeasured.get() * (long) open.opened();
            double window = Math.max(1e-9, (lastDelivery - measureStart) / 1e9);
            Histogram lat = latency.getIntervalHistogram();
            result.put("events_acked", ackedMeasured.get())
                    .put("publish_failures", failedPublishes.get())
                    .put("events_unsent", unsent)
                    .put("deliveries", deliveries)
                    .put("expected", expected)
                    .put("delivered_frac", expected == 0 ? 0.0 : (double) deliveries / expected)
                    .put("subs_complete", complete)
                    .put("disconnects", disconnects.sum())
                    .put("deliveries_per_s", deliveries / window)
                    .latencies("latency", lat)
                    .latencies("ack", ackLatency)
                    .put("frames_per_read", reads == 0 ? 0.0 : (double) events / reads);
            putServerCpu(result, before, after, deliveries, "deliveries");
            if (peer != null) { // a second server (e.g. the other edge of a cluster), over the same window
                double wall = (peerAfter.nanoTime() - peerBefore.nanoTime()) / 1e9;
                result.put("peer_cpu_s", peerAfter.cpuSince(peerBefore))
                        .put("peer_cores", wall > 0 ? peerAfter.cpuSince(peerBefore) / wall : 0.0);
            }
            putClientCpu(result, clientMeasureStart, clientAfter);
            putMachine(result, machineBefore, machineAfter, before, after, clientMeasureStart, clientAfter);
            client.dropAll(subscribers);
            return result;
        }
    }
}
