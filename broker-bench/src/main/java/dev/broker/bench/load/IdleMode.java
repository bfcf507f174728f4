package dev.broker.bench.load;

import io.netty.buffer.ByteBufAllocator;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code idle}: opens N streams and holds them for T seconds with no events. With {@code --server-pid} it reports
 * the server's memory growth per connection (VmRSS, and Pss, which counts nginx's shared memory once) between
 * before the first connect and after the last, and its CPU per connection while idle (heartbeats, timers).
 */
final class IdleMode extends Scenario {

    IdleMode(Options options, PrintStream progress) {
        super(options, progress);
    }

    @Override
    String mode() {
        return "idle";
    }

    @Override
    Result run() throws Exception {
        int conns = options.integer("conns", 100);
        double hold = options.decimal("hold", 10);
        double settle = options.decimal("settle", 2);
        options.rejectUnknown();

        Result result = base().put("conns", conns).put("hold_s", hold);
        Target.Stream stream = target.newStream("idle");
        try (LoadClient client = newClient()) {
            LongAdder closed = new LongAdder();
            Subscriber.Listener listener = new Subscriber.Listener() {
                @Override
                public void onEvent(Subscriber subscriber, long publishMicros, long seq) {
                }

                @Override
                public void onClose(Subscriber subscriber, Throwable cause) {
                    closed.increment();
                }
            };
            List<Subscriber> subscribers = subscribers(conns);
            Thread.sleep(200);
            ProcStats.Sample before = serverSample();
            log("opening " + conns + " idle streams");
            LoadClient.OpenReport open = client.open(subscribers, s -> stream.subscribeRequest(ByteBufAllocator.DEFAULT, null),
                    listener, parallel).get();
            log(String.format("%d open, %d failed in %.2f s%s", open.opened(), open.failed(), open.nanos() / 1e9,
                    open.firstFailure() == null ? "" : " (" + open.firstFailure() + ")"));
            result.put("conns_open", open.opened()).put("connect_s", open.nanos() / 1e9);
            putTls(result, client);
            Thread.sleep((long) (settle * 1000));
            ProcStats.Sample connected = serverSample();
            log(String.format("holding for %.1f s", hold));
            Thread.sleep((long) (hold * 1000));
            ProcStats.Sample end = serverSample();
            result.put("closed_during_hold", closed.sum()).put("load1_end", MachineStats.sample().load1());
            if (before != null) {
                int n = Math.max(1, open.opened());
                result.put("server_rss_before_mib", before.rssKib() / 1024.0)
                        .put("server_rss_after_mib", connected.rssKib() / 1024.0)
                        .put("rss_per_conn_bytes", (connected.rssKib() - before.rssKib()) * 1024.0 / n)
                        .put("pss_per_conn_bytes", (connected.pssKib() - before.pssKib()) * 1024.0 / n)
                        .put("rss_end_per_conn_bytes", (end.rssKib() - before.rssKib()) * 1024.0 / n)
                        .put("connect_cpu_us_per_conn", connected.cpuSince(before) / n * 1e6)
                        .put("idle_cpu_us_per_conn_s", end.cpuSince(connected) / hold / n * 1e6)
                        .put("server_processes", end.processes());
            }
            client.dropAll(subscribers);
            return result;
        }
    }
}
