package dev.broker.bench.load;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * A scenario's numbers, in order. Printed as aligned lines for people and as one {@code RESULT key=value ...} line
 * for scripts ({@code bench/run.sh} builds its table from those).
 */
public final class Result {

    private final Map<String, Object> values = new LinkedHashMap<>();

    public Result put(String key, Object value) {
        values.put(key, value);
        return this;
    }

    public Object get(String key) {
        return values.get(key);
    }

    public double number(String key) {
        Object value = values.get(key);
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("no number " + key + " in " + values.keySet());
    }

    public Map<String, Object> values() {
        return values;
    }

    /** p50, p90, p99 and max of a histogram of microseconds, in milliseconds, under {@code prefix_...}. */
    public Result latencies(String prefix, Histogram micros) {
        put(prefix + "_p50_ms", ms(micros.getValueAtPercentile(50)));
        put(prefix + "_p90_ms", ms(micros.getValueAtPercentile(90)));
        put(prefix + "_p99_ms", ms(micros.getValueAtPercentile(99)));
        put(prefix + "_max_ms", ms(micros.getMaxValue()));
        return this;
    }

    private static double ms(long micros) {
        return Math.round(micros / 10.0) / 100.0;
    }

    static String format(Object value) {
        if (value instanceof Double d) {
            double abs = Math.abs(d);
            if (abs != 0 && abs < 0.01) {
                return String.format(Locale.ROOT, "%.6f", d);
            }
            if (abs < 100) {
                return String.format(Locale.ROOT, "%.4f", d).replaceAll("0+$", "").replaceAll("\\.$", "");
            }
            return String.format(Locale.ROOT, "%.1f", d);
        }
        return String.valueOf(value).replace(' ', '_');
    }

    public String line() {
        StringBuilder out = new StringBuilder("RESULT");
        values.forEach((k, v) -> out.append(' ').append(k).append('=').append(format(v)));
        return out.toString();
    }

    public String table() {
        int width = values.keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder out = new StringBuilder();
        values.forEach((k, v) -> out.append(String.format(Locale.ROOT, "  %-" + width + "s  %s%n", k, format(v))));
        return out.toString();
    }
}
