package dev.broker.bench.load;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    @TempDir
    Path dir;

    @Test
    void comparesTlsWithPlainAndHttp2WithHttp1() throws Exception {
        Path results = dir.resolve("results.txt");
        Files.writeString(results, String.join("\n",
                "RESULT mode=fanout target=broker label=fanout-1k-100 subs=1000 rate=100 server_cpu_s_per_M_deliveries=4",
                "RESULT mode=fanout target=nchan label=fanout-1k-100 subs=1000 rate=100 server_cpu_s_per_M_deliveries=8",
                "RESULT mode=fanout target=broker scheme=https label=tls-fanout-1k-100 subs=1000 rate=100 server_cpu_s_per_M_deliveries=6",
                "RESULT mode=fanout target=broker scheme=https label=tls-fanout-10k-10 subs=10000 rate=10 server_cpu_s_per_M_deliveries=10",
                "RESULT mode=fanout target=broker scheme=https label=h2-100x100 subs=10000 h2_streams=100 rate=10 delivered_frac=1 server_cpu_s_per_M_deliveries=11",
                ""));
        String table = Report.render(results);
        assertTrue(table.contains("| CPU per delivery at 1,000 × 100/s, TLS over plain HTTP | 6.000 | 4.000 | 1.500 | ≤ 1.25 | **no** |"), table);
        assertTrue(table.contains("HTTP/2 (100 streams a connection) over HTTP/1.1, both TLS | 11.0 | 10.0 | 1.100 | ≤ 1.2 | yes |"), table);
        assertTrue(table.contains("h2: 10000 streams, 100 per connection × 10 ev/s: delivered"), table);
        assertFalse(table.contains("{"), "every placeholder filled: " + table);
    }

    @Test
    void leavesTheTlsSectionOutOfAPlainRun() throws Exception {
        Path results = dir.resolve("results.txt");
        Files.writeString(results, "RESULT mode=fanout target=broker label=fanout-1k-100 subs=1000 rate=100 server_cpu_s_per_M_deliveries=4\n");
        assertFalse(Report.render(results).contains("Over TLS"));
    }
}
