package dev.broker.bench.load;

import io.netty.buffer.ByteBufAllocator;
import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * {@code inserts}: C keep-alive connections, each keeping {@code --pipeline} publishes in flight (closed loop), for
 * a warm-up and D measured seconds. Reports acknowledged publishes per second in the measured window and their
 * latency. For Broker an acknowledgement means the event is durable (fsync'd); for Nchan it is in memory.
 */
final class InsertsMode extends Scenario {

    InsertsMode(Options options, PrintStream progress) {
        super(options, progress);
    }

    @Override
    String mode() {
        return "inserts";
    }

    @Override
    Result run() throws Exception {
        int conns = options.integer("conns", 64);
        int depth = options.integer("pipeline", 1);
        double duration = options.decimal("duration", 10);
        double warmup = options.decimal("warmup", 2);
        int size = options.integer("size", 100);
        int names = options.integer("names", 100);
        options.rejectUnknown();

        Result result = base().put("conns", conns).put("pipeline", depth).put("duration_s", duration);
        Target.Stream stream = target.newStream("inserts");
        String[] eventNames = new String[names];
        for (int i = 0; i < names; i++) {
            eventNames[i] = "e" + i;
        }
        try (LoadClient client = newClient()) {
            Publishers publishers = Publishers.open(client, conns, depth).get(10, TimeUnit.SECONDS);
            publishers.checkAcknowledgements(stream);
            long start = System.nanoTime();
            long measureStart = start + (long) (warmup * 1e9);
            long measureEnd = measureStart + (long) (duration * 1e9);
            long[] counts = new long[4]; // acked in window, failed, sent, mismatched (answer to another request)
            Histogram latency = new Histogram(3);
            boolean[] stopped = {false};
            Runnable fill = new Runnable() {
                @Override
                public void run() {
                    if (stopped[0]) {
                        return;
                    }
                    if (System.nanoTime() >= measureEnd) {
                        stopped[0] = true;
                        return;
                    }
                    while (publishers.hasRoom()) {
                        long seq = counts[2]++;
                        String event = eventNames[(int) (seq % names)];
                        publishers.offer(stream.publishRequest(ByteBufAllocator.DEFAULT, event,
                                Payload.json(MicroClock.now(), seq, size)), event, (status, sentNanos) -> {
                            long now = System.nanoTime();
                            if (status > 0 && stream.accepted(status)) {
                                if (now >= measureStart && now <= measureEnd) {
                                    counts[0]++;
                                    latency.recordValue((now - sentNanos) / 1000);
                                }
                            } else {
                                counts[1]++;
                                if (status == Publishers.MISMATCHED) {
                                    counts[3]++;
                                }
                            }
                        });
                    }
                }
            };
            publishers.onReadComplete(fill);
            log(String.format("%d connections × %d in flight: %.1f s warm-up, %.1f s measured", conns, depth, warmup, duration));
            ProcStats.Sample clientBefore = null;
            publishers.loop().execute(() -> {
                fill.run();
                publishers.flush();
            });
            sleepUntil(measureStart);
            ProcStats.Sample before = serverSample();
            clientBefore = self.sample();
            MachineStats.Sample machineBefore = MachineStats.sample();
            sleepUntil(measureEnd);
            ProcStats.Sample after = serverSample();
            ProcStats.Sample clientAfter = self.sample();
            MachineStats.Sample machineAfter = MachineStats.sample();
            long drainEnd = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < drainEnd && publishers.loop().submit(publishers::inFlight).get() > 0) {
                Thread.sleep(10);
            }
            publishers.loop().submit(publishers::close).get();
            client.quiesce();
            result.put("inserts", counts[0])
                    .put("failures", counts[1])
                    .put("mismatched", counts[3])
                    .put("inserts_per_s", counts[0] / duration)
                    .latencies("latency", latency);
            putServerCpu(result, before, after, counts[0], "inserts");
            putTls(result, client);
            putClientCpu(result, clientBefore, clientAfter);
            putMachine(result, machineBefore, machineAfter, before, after, clientBefore, clientAfter);
            return result;
        }
    }
}
