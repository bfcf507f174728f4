package dev.broker.bench.load;

import java.io.PrintStream;

/** Runs one load-generator mode and returns its numbers (the programmatic entry, used by the smoke test). */
public final class LoadGenerator {

    public static final String USAGE = """
            usage: java -jar broker-bench.jar <mode> [--flag=value ...]

            modes
              fanout     N subscribers, one publisher at R events/s; deliveries/s, fraction delivered, latency
              idle       hold N streams for T s; server RSS and CPU per connection (with --server-pid)
              inserts    acknowledged publishes/s over C keep-alive connections
              reconnect  N subscribers drop and reconnect at once, without and with Last-Event-ID
              report F   the Broker/Nchan table of bench/run.sh's RESULT lines in file F
              fill       fill a database through the storage API (--db DIR --users N --events N; see fill --help)
              jmh        run the JMH micro-benchmarks (the rest are JMH's own flags, e.g. -l, -f 1, SseFrames)

            target (all modes)
              --target broker|nchan      server kind (broker)
              --url http://127.0.0.1:P   where it listens; loopback only (http://127.0.0.1:8080); https://… for TLS
              --admin-token T            Broker's admin token, to create the scenario's user (or BENCH_ADMIN_TOKEN)
              --auth bearer|basic        how Broker subscribers and publishers authenticate (bearer)
              --sub-path, --pub-path     Nchan's subscriber and publisher locations (/sub, /pub)
              --server-pid PID           the server process (and its children), for CPU and memory
              --threads N                client event loops for subscribers (1); publishers have their own
              --source-addresses N       spread connections over 127.0.0.2..N+1 (16)
              --connect-parallel N       connection attempts in flight at once (1000)
              --label NAME               tag for the RESULT line
              --sub-urls URL,URL         spread subscribers round-robin over these servers (e.g. two edges of one
                                         cluster); user, login and publishers stay on --url

            TLS (with an https:// URL; OpenSSL via netty-tcnative, TLS 1.3 only, sessions resumed on reconnect)
              --ca FILE                  PEM certificate to trust (the server's self-signed one); unset: trust any
              --sni NAME                 server name sent and verified (localhost)
              --tls-ciphers A,B          TLS 1.3 suites to offer (BoringSSL ignores this and offers its defaults)
              --tls-groups A,B           key-exchange groups to offer (unset: BoringSSL's, which like browsers'
                                         send an X25519MLKEM768 key share with every new connection)
              --h2-streams-per-conn N    subscribers as HTTP/2 streams, N per connection (0: HTTP/1.1, one each)

            fanout     --subs 100 --rate 10 --duration 10 --warmup 2 --size 100 --drain 10 --pub-conns 16 --pipeline 4
                       --peer-pid PID (a second server's CPU over the measured phase: peer_cpu_s, peer_cores)
            idle       --conns 100 --hold 10 --settle 2
            inserts    --conns 64 --pipeline 1 --duration 10 --warmup 2 --size 100 --names 100
            reconnect  --subs 100 --names 100 --missed 10 --timeout 60

            Each run prints progress on stderr, then its numbers and one line "RESULT key=value ..." on stdout.
            """;

    private LoadGenerator() {
    }

    public static Result run(String mode, Options options, PrintStream progress) throws Exception {
        Scenario scenario = switch (mode) {
            case "fanout" -> new FanoutMode(options, progress);
            case "idle" -> new IdleMode(options, progress);
            case "inserts" -> new InsertsMode(options, progress);
            case "reconnect" -> new ReconnectMode(options, progress);
            default -> throw new IllegalArgumentException("unknown mode '" + mode + "'\n\n" + USAGE);
        };
        return scenario.run();
    }
}
