package dev.broker.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * CPU time and memory of a server process and its children (nginx's workers), read from {@code /proc}:
 * {@code stat} fields utime+stime (clock ticks), {@code status} VmRSS and {@code smaps_rollup} Pss (which, unlike
 * RSS, does not count shared memory once per worker).
 */
public final class ProcStats {

    /** Clock ticks per second of {@code /proc/<pid>/stat}; 100 on every Linux this runs on (getconf CLK_TCK). */
    static final double TICKS_PER_SECOND = 100.0;

    public record Sample(long nanoTime, double cpuSeconds, long rssKib, long pssKib, int processes) {

        public double cpuSince(Sample before) {
            return cpuSeconds - before.cpuSeconds;
        }
    }

    private final long pid;

    public ProcStats(long pid) {
        this.pid = pid;
    }

    public static ProcStats self() {
        return new ProcStats(ProcessHandle.current().pid());
    }

    public long pid() {
        return pid;
    }

    /** The process and its live descendants, read now. */
    public Sample sample() {
        long now = System.nanoTime();
        double cpu = 0;
        long rss = 0;
        long pss = 0;
        int count = 0;
        for (long p : family()) {
            try {
                cpu += cpuSeconds(p);
                rss += statusKib(p, "VmRSS:");
                pss += pssKib(p);
                count++;
            } catch (IOException | RuntimeException gone) {
                // a worker that exited between listing and reading
            }
        }
        return new Sample(now, cpu, rss, pss, count);
    }

    private List<Long> family() {
        Set<Long> all = new LinkedHashSet<>();
        List<Long> todo = new ArrayList<>(List.of(pid));
        while (!todo.isEmpty()) {
            long p = todo.remove(todo.size() - 1);
            if (!all.add(p)) {
                continue;
            }
            try {
                String children = Files.readString(Path.of("/proc", Long.toString(p), "task", Long.toString(p), "children"));
                for (String child : children.trim().split("\\s+")) {
                    if (!child.isEmpty()) {
                        todo.add(Long.parseLong(child));
                    }
                }
            } catch (IOException | NumberFormatException ignored) {
                // no children file (old kernel) or the process is gone
            }
        }
        return new ArrayList<>(all);
    }

    static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long utime = Long.parseLong(fields[11]);
        long stime = Long.parseLong(fields[12]);
        return (utime + stime) / TICKS_PER_SECOND;
    }

    static long statusKib(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
            }
        }
        return 0;
    }

    static long pssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            // not every kernel has smaps_rollup
        }
        return 0;
    }
}
