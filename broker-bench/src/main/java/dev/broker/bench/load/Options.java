package dev.broker.bench.load;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The load generator's flags, {@code --name=value} or {@code --name value} (a flag alone means {@code true}), with
 * {@code BENCH_<NAME>} from the environment as a fallback, so secrets such as the admin token stay out of {@code ps}.
 * Every flag read is remembered; {@link #rejectUnknown()} then names any flag nobody asked for (a typo).
 */
public final class Options {

    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> env;
    private final Set<String> asked = new TreeSet<>();

    private Options(Map<String, String> env) {
        this.env = env;
    }

    public static Options parse(String[] args) {
        return parse(args, System.getenv());
    }

    static Options parse(String[] args, Map<String, String> env) {
        Options options = new Options(env);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "' (flags are --name=value)");
            }
            String body = arg.substring(2);
            int eq = body.indexOf('=');
            if (eq >= 0) {
                options.values.put(normalise(body.substring(0, eq)), body.substring(eq + 1));
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                options.values.put(normalise(body), args[++i]);
            } else {
                options.values.put(normalise(body), "true");
            }
        }
        return options;
    }

    /** Builds options from name/value pairs (tests and the smoke test). */
    public static Options of(String... pairs) {
        Options options = new Options(Map.of());
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            options.values.put(normalise(pairs[i]), pairs[i + 1]);
        }
        return options;
    }

    private static String normalise(String name) {
        return name.replace('_', '-');
    }

    public String string(String name, String fallback) {
        asked.add(name);
        String value = values.get(name);
        if (value == null) {
            value = env.get("BENCH_" + name.replace('-', '_').toUpperCase(java.util.Locale.ROOT));
        }
        return value == null ? fallback : value;
    }

    public String required(String name) {
        String value = string(name, null);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return value;
    }

    public int integer(String name, int fallback) {
        String value = string(name, null);
        try {
            return value == null ? fallback : Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, not '" + value + "'");
        }
    }

    public double decimal(String name, double fallback) {
        String value = string(name, null);
        try {
            return value == null ? fallback : Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, not '" + value + "'");
        }
    }

    public boolean flag(String name) {
        String value = string(name, "false");
        return value.equalsIgnoreCase("true") || value.equals("1") || value.equalsIgnoreCase("yes");
    }

    public void rejectUnknown() {
        for (String name : values.keySet()) {
            if (!asked.contains(name)) {
                throw new IllegalArgumentException("unknown flag --" + name);
            }
        }
    }
}
