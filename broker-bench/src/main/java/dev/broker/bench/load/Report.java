package dev.broker.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report <results file>}: the side-by-side table of a {@code bench/run.sh} run, built from its
 * {@code RESULT} lines (each tagged with {@code label=} and {@code target=}), as Markdown: one row per metric,
 * Broker, Nchan, their ratio, and the goal Broker is held to.
 */
public final class Report {

    private record Row(String label, String metric, String title, Goal goal) {
    }

    /** A goal on Broker's value (or on the ratio Broker/Nchan). */
    private record Goal(String text, java.util.function.BiPredicate<Double, Double> met) {
    }

    private static final List<Row> ROWS = List.of(
            new Row("idle-15k", "rss_per_conn_bytes", "idle {conns} streams: server RSS growth per connection (bytes)",
                    new Goal("(5) ≤ 4096", (b, n) -> b <= 4096)),
            new Row("idle-15k", "pss_per_conn_bytes", "idle {conns} streams: server PSS growth per connection (bytes)", null),
            new Row("idle-15k", "server_rss_after_mib", "idle {conns} streams: server RSS with them open (MiB)", null),
            new Row("idle-15k", "connect_cpu_us_per_conn", "idle {conns} streams: server CPU to open one (µs)", null),
            new Row("idle-15k", "idle_cpu_us_per_conn_s", "idle {conns} streams: server CPU per connection (µs/s)", null),
            new Row("fanout-1k-100", "server_cpu_s_per_M_deliveries", "{subs} subs × {rate} ev/s: server CPU s per 1M deliveries",
                    new Goal("(1) ratio ≤ 1.15", (b, n) -> b / n <= 1.15)),
            new Row("fanout-1k-100", "delivered_frac", "{subs} subs × {rate} ev/s: delivered", null),
            new Row("fanout-1k-100", "latency_p99_ms", "{subs} subs × {rate} ev/s: latency p99 (ms)", null),
            new Row("fanout-10k-10", "delivered_frac", "{subs} subs × {rate} ev/s: delivered",
                    new Goal("(2) ≥ 0.999", (b, n) -> b >= 0.999)),
            new Row("fanout-10k-10", "latency_p50_ms", "{subs} subs × {rate} ev/s: latency p50 (ms)", null),
            new Row("fanout-10k-10", "latency_p99_ms", "{subs} subs × {rate} ev/s: latency p99 (ms)",
                    new Goal("(2) ≤ 250", (b, n) -> b <= 250)),
            new Row("fanout-10k-10", "server_cpu_s_per_M_deliveries", "{subs} subs × {rate} ev/s: server CPU s per 1M deliveries", null),
            new Row("fanout-10k-peak", "deliveries_per_s", "{subs} subs, peak ({rate} ev/s offered): deliveries/s",
                    new Goal("(3) ≥ 120000", (b, n) -> b >= 120_000)),
            new Row("fanout-10k-peak", "delivered_frac", "{subs} subs, peak ({rate} ev/s offered): delivered", null),
            new Row("fanout-10k-peak", "latency_p99_ms", "{subs} subs, peak ({rate} ev/s offered): latency p99 (ms)", null),
            new Row("fanout-10k-peak", "server_cpu_s_per_M_deliveries", "{subs} subs, peak ({rate} ev/s offered): server CPU s per 1M deliveries", null),
            new Row("fanout-1k-1000", "delivered_frac", "{subs} subs × {rate} ev/s: delivered",
                    new Goal("(4) ≥ 0.999", (b, n) -> b >= 0.999)),
            new Row("fanout-1k-1000", "latency_p99_ms", "{subs} subs × {rate} ev/s: latency p99 (ms)",
                    new Goal("(4) ≤ 100", (b, n) -> b <= 100)),
            new Row("fanout-1k-1000", "frames_per_read", "{subs} subs × {rate} ev/s: events per client read (coalescing)", null),
            new Row("fanout-1k-1000", "server_cpu_s_per_M_deliveries", "{subs} subs × {rate} ev/s: server CPU s per 1M deliveries", null),
            new Row("inserts-64", "inserts_per_s", "{conns} connections: acknowledged inserts/s",
                    new Goal("(6) ≥ 50000", (b, n) -> b >= 50_000)),
            new Row("inserts-64", "latency_p99_ms", "{conns} connections: insert latency p99 (ms)", null),
            new Row("inserts-64", "server_cpu_s_per_M_inserts", "{conns} connections: server CPU s per 1M inserts", null),
            new Row("inserts-64-p16", "inserts_per_s", "{conns} connections, {pipeline} pipelined each: acknowledged inserts/s",
                    new Goal("(6) ≥ 50000", (b, n) -> b >= 50_000)),
            new Row("inserts-64-p16", "latency_p99_ms", "{conns} connections, {pipeline} pipelined each: insert latency p99 (ms)", null),
            new Row("inserts-64-p16", "server_cpu_s_per_M_inserts", "{conns} connections, {pipeline} pipelined each: server CPU s per 1M inserts", null),
            new Row("reconnect-10k", "snapshot_all_s", "{subs} subs reconnect, {names}-name snapshot: all served (s)",
                    new Goal("(7) ≤ 2", (b, n) -> b <= 2)),
            new Row("reconnect-10k", "snapshot_server_cpu_s", "{subs} subs reconnect, snapshot: server CPU (s)", null),
            new Row("reconnect-10k", "resume_all_s", "{subs} subs reconnect with Last-Event-ID ({missed} missed): all served (s)", null));

    /** The scenarios over TLS (labels tls-*, h2-*), goals from the TLS issue. */
    private static final List<Row> TLS_ROWS = List.of(
            new Row("tls-idle-15k", "rss_per_conn_bytes", "TLS: idle {conns} streams: server RSS growth per connection (bytes)",
                    new Goal("(T3) ≤ 5120", (b, n) -> b <= 5120)),
            new Row("tls-idle-15k", "connect_cpu_us_per_conn", "TLS: idle {conns} streams: server CPU to open one (µs)", null),
            new Row("tls-idle-15k", "connect_s", "TLS: idle {conns} streams: time to open them all (s)", null),
            new Row("tls-fanout-1k-100", "server_cpu_s_per_M_deliveries", "TLS: {subs} subs × {rate} ev/s: server CPU s per 1M deliveries",
                    new Goal("(T1) ratio ≤ 0.5", (b, n) -> b / n <= 0.5)),
            new Row("tls-fanout-1k-100", "delivered_frac", "TLS: {subs} subs × {rate} ev/s: delivered", null),
            new Row("tls-fanout-1k-100", "latency_p99_ms", "TLS: {subs} subs × {rate} ev/s: latency p99 (ms)", null),
            new Row("tls-fanout-10k-10", "delivered_frac", "TLS: {subs} subs × {rate} ev/s: delivered",
                    new Goal("(T2) ≥ 0.999", (b, n) -> b >= 0.999)),
            new Row("tls-fanout-10k-10", "latency_p99_ms", "TLS: {subs} subs × {rate} ev/s: latency p99 (ms)",
                    new Goal("(T2) ≤ 250", (b, n) -> b <= 250)),
            new Row("tls-fanout-10k-10", "server_cpu_s_per_M_deliveries", "TLS: {subs} subs × {rate} ev/s: server CPU s per 1M deliveries", null),
            new Row("tls-inserts-64", "inserts_per_s", "TLS: {conns} connections: acknowledged inserts/s", null),
            new Row("tls-inserts-64", "server_cpu_s_per_M_inserts", "TLS: {conns} connections: server CPU s per 1M inserts", null),
            new Row("tls-reconnect-10k", "initial_server_cpu_us_per_handshake", "TLS: {subs} subs first connect (full handshake + snapshot): server CPU per connection (µs)", null),
            new Row("tls-reconnect-10k", "snapshot_tls_resumed_frac", "TLS: {subs} subs reconnect: handshakes resumed", null),
            new Row("tls-reconnect-10k", "snapshot_server_cpu_us_per_handshake", "TLS: {subs} subs reconnect (resumed + snapshot): server CPU per connection (µs)", null),
            new Row("tls-reconnect-10k", "snapshot_all_s", "TLS: {subs} subs reconnect, {names}-name snapshot: all served (s)",
                    new Goal("(T4) ≤ 3", (b, n) -> b <= 3)),
            new Row("tls-reconnect-10k", "snapshot_client_cpu_s", "TLS: {subs} subs reconnect: the load generator's CPU (s)", null),
            new Row("tls-reconnect-10k-x25519", "snapshot_all_s", "TLS, load generator offering X25519 only: {subs} subs reconnect, {names}-name snapshot: all served (s)",
                    new Goal("(T4) ≤ 3", (b, n) -> b <= 3)),
            new Row("tls-reconnect-10k-x25519", "snapshot_client_cpu_s", "TLS, load generator offering X25519 only: {subs} subs reconnect: the load generator's CPU (s)", null),
            new Row("tls-reconnect-10k-x25519", "initial_server_cpu_us_per_handshake", "TLS, load generator offering X25519 only: {subs} subs first connect (full handshake + snapshot): server CPU per connection (µs)", null),
            new Row("tls-reconnect-10k-x25519", "snapshot_server_cpu_us_per_handshake", "TLS, load generator offering X25519 only: {subs} subs reconnect (resumed + snapshot): server CPU per connection (µs)", null),
            new Row("pq-reconnect-10k", "snapshot_server_cpu_us_per_handshake", "TLS, default groups (X25519MLKEM768): {subs} subs reconnect (resumed + snapshot): server CPU per connection (µs)", null),
            new Row("pq-reconnect-10k", "snapshot_all_s", "TLS, default groups (X25519MLKEM768): {subs} subs reconnect, {names}-name snapshot: all served (s)", null),
            new Row("h2-100x100", "delivered_frac", "h2: {subs} streams, {h2_streams} per connection × {rate} ev/s: delivered",
                    new Goal("(T5) ≥ 0.999", (b, n) -> b >= 0.999)),
            new Row("h2-100x100", "latency_p99_ms", "h2: {subs} streams × {rate} ev/s: latency p99 (ms)", null),
            new Row("h2-100x100", "server_cpu_s_per_M_deliveries", "h2: {subs} streams × {rate} ev/s: server CPU s per 1M deliveries", null));

    /** Broker against itself: a TLS scenario's value over its plain (or HTTP/1.1-over-TLS) twin's. */
    private record Versus(String label, String baseline, String metric, String title, double goal) {
    }

    private static final List<Versus> VERSUS = List.of(
            new Versus("tls-fanout-1k-100", "fanout-1k-100", "server_cpu_s_per_M_deliveries",
                    "CPU per delivery at 1,000 × 100/s, TLS over plain HTTP", 1.25),
            new Versus("tls-fanout-10k-10", "fanout-10k-10", "server_cpu_s_per_M_deliveries",
                    "CPU per delivery at 10,000 × 10/s, TLS over plain HTTP", 0),
            new Versus("tls-reconnect-10k", "reconnect-10k", "snapshot_server_cpu_us_per_conn",
                    "server CPU per reconnect, resumed TLS over plain HTTP", 0),
            new Versus("tls-reconnect-10k", "reconnect-10k", "initial_server_cpu_us_per_conn",
                    "server CPU per first connect, full TLS handshake over plain HTTP", 0),
            new Versus("pq-reconnect-10k", "tls-reconnect-10k", "snapshot_server_cpu_us_per_conn",
                    "server CPU per resumed reconnect, X25519MLKEM768 over X25519", 0),
            new Versus("h2-100x100", "tls-fanout-10k-10", "server_cpu_s_per_M_deliveries",
                    "CPU per delivery at 10,000 × 10/s, HTTP/2 (100 streams a connection) over HTTP/1.1, both TLS", 1.2));

    private Report() {
    }

    public static String render(Path results) throws IOException {
        Map<String, Map<String, String>> byKey = new HashMap<>();
        for (String line : Files.readAllLines(results)) {
            if (!line.startsWith("RESULT ")) {
                continue;
            }
            Map<String, String> fields = new HashMap<>();
            for (String pair : line.substring(7).trim().split(" ")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    fields.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            byKey.put(fields.get("label") + "/" + fields.get("target"), fields);
        }
        StringBuilder out = new StringBuilder();
        table(out, ROWS, byKey);
        if (byKey.keySet().stream().anyMatch(k -> k.startsWith("tls-") || k.startsWith("h2-"))) {
            out.append("\nOver TLS (TLS 1.3; HTTP/1.1 unless h2):\n\n");
            table(out, TLS_ROWS, byKey);
            out.append("\n| Broker against itself | TLS | baseline | ratio | goal | met |\n|---|---:|---:|---:|---|:---:|\n");
            for (Versus v : VERSUS) {
                Double tls = value(byKey, v.label + "/broker", v.metric);
                Double base = value(byKey, v.baseline + "/broker", v.metric);
                if (tls == null || base == null || base == 0) {
                    continue;
                }
                double ratio = tls / base;
                out.append("| ").append(v.title).append(" | ").append(fmt(tls)).append(" | ").append(fmt(base))
                        .append(" | ").append(fmt(ratio)).append(" | ").append(v.goal > 0 ? "≤ " + v.goal : "")
                        .append(" | ").append(v.goal > 0 ? (ratio <= v.goal ? "yes" : "**no**") : "").append(" |\n");
            }
        }
        return out.toString();
    }

    private static void table(StringBuilder out, List<Row> rows, Map<String, Map<String, String>> byKey) {
        out.append("| scenario and metric | Broker | Nchan | Broker/Nchan | goal (on Broker) | met |\n");
        out.append("|---|---:|---:|---:|---|:---:|\n");
        List<String> missing = new ArrayList<>();
        for (Row row : rows) {
            Double broker = value(byKey, row.label + "/broker", row.metric);
            Double nchan = value(byKey, row.label + "/nchan", row.metric);
            if (broker == null && nchan == null) {
                missing.add(row.label);
                continue;
            }
            String ratio = broker != null && nchan != null && nchan != 0 ? fmt(broker / nchan) : "–";
            String goal = row.goal == null ? "" : row.goal.text;
            String met = "";
            if (row.goal != null) {
                if (broker == null || (row.goal.text.contains("ratio") && (nchan == null || nchan == 0))) {
                    met = "?";
                } else {
                    met = row.goal.met.test(broker, nchan) ? "yes" : "**no**";
                }
            }
            out.append("| ").append(title(row.title, byKey.getOrDefault(row.label + "/broker", byKey.get(row.label + "/nchan")))).append(" | ").append(fmt(broker)).append(" | ").append(fmt(nchan))
                    .append(" | ").append(ratio).append(" | ").append(goal).append(" | ").append(met).append(" |\n");
        }
        if (!missing.isEmpty()) {
            out.append("\n(no results for: ").append(String.join(", ", new java.util.TreeSet<>(missing))).append(")\n");
        }
    }

    /** The row's title with {name} replaced by that parameter of the scenario's run. */
    private static String title(String template, Map<String, String> fields) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{([a-z0-9_]+)}").matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = fields == null ? null : fields.get(m.group(1));
            if (v != null && v.endsWith(".0")) {
                v = v.substring(0, v.length() - 2);
            }
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(v == null ? "?" : v));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static Double value(Map<String, Map<String, String>> byKey, String key, String metric) {
        Map<String, String> fields = byKey.get(key);
        if (fields == null || !fields.containsKey(metric)) {
            return null;
        }
        String v = fields.get(metric);
        if (v.equals("Infinity")) {
            return Double.POSITIVE_INFINITY;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String fmt(Double v) {
        if (v == null) {
            return "–";
        }
        if (v.isInfinite()) {
            return "∞ (incomplete)";
        }
        double abs = Math.abs(v);
        if (abs >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (abs >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (abs >= 0.995 && abs < 1.0) {
            return String.format(Locale.ROOT, "%.4f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
