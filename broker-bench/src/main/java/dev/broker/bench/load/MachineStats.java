package dev.broker.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The whole machine's busy CPU (all of {@code /proc/stat}'s first line but idle and iowait), so that a result can say
 * how much of the machine neither the server nor the load generator used: on a shared machine, other processes
 * competing for the cores inflate latencies (CPU-per-delivery much less).
 */
final class MachineStats {

    record Sample(long nanoTime, double busySeconds, double load1) {
    }

    private MachineStats() {
    }

    static Sample sample() {
        long now = System.nanoTime();
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) { // idle, iowait
                    busy += Long.parseLong(f[i]);
                }
            }
            double load = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            return new Sample(now, busy / ProcStats.TICKS_PER_SECOND, load);
        } catch (IOException | RuntimeException e) {
            return new Sample(now, 0, 0);
        }
    }
}
