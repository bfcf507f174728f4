package dev.broker.bench;

import dev.broker.bench.load.LoadGenerator;
import dev.broker.bench.load.Options;
import dev.broker.bench.load.Result;
import java.util.Arrays;

/**
 * {@code java -jar broker-bench.jar <mode> ...}: the load generator's modes, or {@code jmh} for the micro-benchmarks.
 * Exit codes: 0 done, 1 the run failed, 2 bad usage.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            System.out.println(LoadGenerator.USAGE);
            return;
        }
        String mode = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (mode.equals("report") && rest.length == 1) {
            System.out.print(dev.broker.bench.load.Report.render(java.nio.file.Path.of(rest[0])));
            return;
        }
        if (mode.equals("fill")) {
            try {
                dev.broker.bench.fill.FillDatabase.run(rest, System.out);
            } catch (IllegalArgumentException e) {
                System.err.println("broker-bench: " + e.getMessage());
                System.exit(2);
            }
            return;
        }
        if (mode.equals("jmh")) {
            org.openjdk.jmh.Main.main(rest);
            return;
        }
        // The client must not measure itself: leak tracking wraps and samples buffers on every read.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        Result result;
        try {
            result = LoadGenerator.run(mode, Options.parse(rest), System.err);
        } catch (IllegalArgumentException e) {
            System.err.println("broker-bench: " + e.getMessage());
            System.exit(2);
            return;
        } catch (Exception e) {
            System.err.println("broker-bench: " + mode + " failed: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }
        System.out.print(result.table());
        System.out.println(result.line());
        System.exit(0);
    }
}
