package dev.broker.bench.load;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** What every mode shares: the target, the client, the optional server process to watch, progress lines. */
abstract class Scenario {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    final Options options;
    final Target target;
    final ProcStats server;
    final ProcStats self = ProcStats.self();
    final int parallel;
    final String label;
    final PrintStream progress;
    final int threads;
    final int sourceAddresses;
    final List<InetSocketAddress> subscriberAddresses;

    Scenario(Options options, PrintStream progress) {
        this.options = options;
        this.progress = progress;
        this.target = Target.of(options);
        int pid = options.integer("server-pid", 0);
        this.server = pid > 0 ? new ProcStats(pid) : null;
        this.parallel = options.integer("connect-parallel", 1000);
        this.label = options.string("label", "");
        this.threads = options.integer("threads", 1);
        this.sourceAddresses = options.integer("source-addresses", 16);
        this.subscriberAddresses = subscriberAddresses(options.string("sub-urls", null), target);
    }

    /** {@code --sub-urls}: other servers of the same cluster (same scheme, loopback) that subscribers are spread over. */
    private static List<InetSocketAddress> subscriberAddresses(String urls, Target target) {
        if (urls == null || urls.isBlank()) {
            return List.of();
        }
        if (target.tls() != null && target.tls().h2Streams() > 0) {
            throw new IllegalArgumentException("--sub-urls works with one connection per subscriber, not with --h2-streams-per-conn");
        }
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (String url : urls.split(",")) {
            URI uri = URI.create(url.trim());
            String scheme = target.tls() == null ? "http" : "https";
            if (!scheme.equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0) {
                throw new IllegalArgumentException("--sub-urls must be " + scheme + "://host:port,... (the scheme of --url), not " + url);
            }
            InetSocketAddress address = new InetSocketAddress(uri.getHost(), uri.getPort());
            if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
                throw new IllegalArgumentException("--sub-urls must point to loopback addresses (127.0.0.0/8), not " + url);
            }
            addresses.add(address);
        }
        return addresses;
    }

    abstract String mode();

    abstract Result run() throws Exception;

    LoadClient newClient() {
        return new LoadClient(target, threads, sourceAddresses, subscriberAddresses);
    }

    Result base() {
        Result result = new Result().put("mode", mode()).put("target", target.name())
                .put("scheme", target.tls() == null ? "http" : "https");
        if (!label.isEmpty()) {
            result.put("label", label);
        }
        return result;
    }

    void log(String message) {
        progress.println(LocalTime.now().format(CLOCK) + " [" + target.name() + " " + mode() + "] " + message);
    }

    ProcStats.Sample serverSample() {
        return server == null ? null : server.sample();
    }

    static List<Subscriber> subscribers(int n) {
        List<Subscriber> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(new Subscriber(i));
        }
        return list;
    }

    static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait;
        while ((wait = nanoTime - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, Math.min(wait / 1_000_000, 100)));
        }
    }

    /** Adds the server's CPU over a window, absolute and per million of {@code units}, and its cores in use. */
    void putServerCpu(Result result, ProcStats.Sample before, ProcStats.Sample after, double units, String unitName) {
        if (before == null || after == null) {
            return;
        }
        double cpu = after.cpuSince(before);
        double wall = (after.nanoTime() - before.nanoTime()) / 1e9;
        result.put("server_cpu_s", cpu);
        result.put("server_cores", wall > 0 ? cpu / wall : 0.0);
        if (units > 0) {
            result.put("server_cpu_s_per_M_" + unitName, cpu / units * 1e6);
        }
        result.put("server_rss_mib", after.rssKib() / 1024.0);
    }

    /** Over TLS: the protocol, the handshakes so far and how many resumed a session. */
    void putTls(Result result, LoadClient client) {
        ClientTls.Counts counts = client.tlsCounts();
        if (counts != null) {
            result.put("tls", target.tls().h2Streams() > 0 ? "h2" : "http/1.1");
            if (target.tls().h2Streams() > 0) {
                result.put("h2_streams", target.tls().h2Streams());
            }
            result.put("tls_negotiated", target.tls().negotiated);
            counts.put(result, "");
        }
    }

    void putClientCpu(Result result, ProcStats.Sample before, ProcStats.Sample after) {
        double wall = (after.nanoTime() - before.nanoTime()) / 1e9;
        result.put("client_cores", wall > 0 ? after.cpuSince(before) / wall : 0.0);
    }

    /**
     * The machine over the same window: its load average, and the cores busy with anything but this server and
     * this load generator ({@code other_cores}); a result with other_cores well above zero was measured on a
     * machine shared with other work, and its latencies say more about that than about the server.
     */
    void putMachine(Result result, MachineStats.Sample machineBefore, MachineStats.Sample machineAfter,
                    ProcStats.Sample serverBefore, ProcStats.Sample serverAfter,
                    ProcStats.Sample clientBefore, ProcStats.Sample clientAfter) {
        double wall = (machineAfter.nanoTime() - machineBefore.nanoTime()) / 1e9;
        if (wall <= 0) {
            return;
        }
        double busy = machineAfter.busySeconds() - machineBefore.busySeconds();
        double ours = clientAfter.cpuSince(clientBefore);
        if (serverBefore != null && serverAfter != null) {
            ours += serverAfter.cpuSince(serverBefore);
        }
        result.put("machine_busy_cores", busy / wall);
        result.put("other_cores", Math.max(0, (busy - ours) / wall));
        result.put("load1_end", machineAfter.load1());
    }
}
