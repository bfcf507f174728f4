package dev.broker.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One setting of Broker, declared once in {@link Flags}: the one name it goes by everywhere ({@code --name} on the
 * command line, {@code BROKER_NAME} in the environment, {@code name} in a configuration file), how its text is read
 * and which values are valid, its default, and its help text. {@link BrokerConfig} holds a value of type {@code T}
 * for every flag.
 *
 * <p>A value is read from text in two steps: the {@linkplain Reader reader} turns the text into a value (or finds it
 * empty or malformed), then the {@linkplain Check check} judges the value (a range, forbidden characters). The check
 * alone guards {@link BrokerConfig#with}, so that a value set in code is held to the same rules as one read from
 * text.
 *
 * @param <T> the type of the value
 */
public final class Flag<T> {

    /** Turns the text of a setting into a value; throws {@link BadValue} when the text is empty or malformed. */
    @FunctionalInterface
    interface Reader<T> {
        T read(String text) throws BadValue;
    }

    /** What is wrong with a (non-null) value, as the end of "'value' ...", or null when nothing is. */
    @FunctionalInterface
    interface Check<T> {
        String problem(T value);
    }

    /** The text of a setting is empty (where that is not allowed) or malformed. Carries no stack trace. */
    static final class BadValue extends Exception {

        private static final long serialVersionUID = 1L;

        private final boolean empty;

        private BadValue(boolean empty, String problem) {
            super(problem, null, false, false);
            this.empty = empty;
        }

        static BadValue empty() {
            return new BadValue(true, "is empty");
        }

        /** {@code problem} completes the sentence "'value' ...": "is not true or false". */
        static BadValue invalid(String problem) {
            return new BadValue(false, problem);
        }

        boolean isEmpty() {
            return empty;
        }

        String problem() {
            return getMessage();
        }
    }

    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    /** A whole number and a unit, or a lone 0. */
    private static final Pattern DURATION = Pattern.compile("0|([0-9]{1,18})([smhd])");
    private static final Map<String, Duration> DURATION_UNITS = Map.of("s", Duration.ofSeconds(1),
            "m", Duration.ofMinutes(1), "h", Duration.ofHours(1), "d", Duration.ofDays(1));
    private static final Pattern DOMAIN_NAME = Pattern.compile(
            "(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

    private final String name;
    private final String metavar;
    private final Reader<T> reader;
    private final Check<T> check;
    private final T defaultValue;
    private final Function<BrokerConfig, T> unsetDefault;
    private final String defaultText;
    private final Function<T, String> format;
    private final String meaning;
    private final boolean optional;
    private final boolean secret;
    private final boolean advanced;

    private Flag(Builder<T> b) {
        this.name = b.name;
        this.metavar = b.metavar;
        this.reader = b.reader;
        this.check = b.check;
        this.defaultValue = b.defaultValue;
        this.unsetDefault = b.unsetDefault;
        this.format = b.format;
        this.meaning = Objects.requireNonNull(b.meaning, () -> name + ": no meaning");
        this.optional = b.optional;
        this.secret = b.secret;
        this.advanced = b.advanced;
        if (!optional) {
            Objects.requireNonNull(defaultValue, () -> name + ": no default");
        }
        String problem = defaultValue == null ? null : check.problem(defaultValue);
        if (problem != null) {
            throw new IllegalArgumentException(name + ": the default " + problem);
        }
        this.defaultText = b.defaultText != null ? b.defaultText : format(defaultValue);
    }

    /** The name without dashes, as used for keys of the configuration file: {@code admin_token}. */
    public String name() {
        return name;
    }

    /** The command-line spelling: {@code --admin_token}. */
    public String cliName() {
        return "--" + name;
    }

    /** The environment variable: {@code BROKER_ADMIN_TOKEN}. */
    public String envName() {
        return "BROKER_" + name.toUpperCase(Locale.ROOT);
    }

    /** True for a flag that may stand alone on the command line ({@code --secure} means true). */
    public boolean isBoolean() {
        return metavar == null;
    }

    /** True for values that are never printed: they appear masked in descriptions and error messages. */
    public boolean isSecret() {
        return secret;
    }

    /** True for tuning that the usage text lists apart, after the flags most servers need. */
    public boolean isAdvanced() {
        return advanced;
    }

    /** True when the flag may have no value at all (null), which an empty text means. */
    public boolean isOptional() {
        return optional;
    }

    /** The placeholder for the value in the usage text, or null for a boolean flag. */
    public String metavar() {
        return metavar;
    }

    /** What the setting means, one line. */
    public String meaning() {
        return meaning;
    }

    /** The value when no source gives one and nothing else decides it; null only for an optional flag. */
    public T defaultValue() {
        return defaultValue;
    }

    /** The default as shown in the usage text. */
    public String defaultText() {
        return defaultText;
    }

    /** {@code value} as text, unmasked: {@code none} for no value. */
    public String format(T value) {
        return value == null ? "none" : format.apply(value);
    }

    @Override
    public String toString() {
        return cliName();
    }

    /** Reads and checks the text of a setting. */
    T parse(String text) throws BadValue {
        T value = reader.read(text);
        String problem = value == null ? null : check.problem(value);
        if (problem != null) {
            throw BadValue.invalid(problem);
        }
        return value;
    }

    /** The value, if it is one this flag can have; otherwise an exception that names the flag (masking a secret). */
    T requireValid(T value) {
        if (value == null) {
            if (optional) {
                return null;
            }
            throw new IllegalArgumentException(name + " must have a value");
        }
        String problem = check.problem(value);
        if (problem != null) {
            throw new IllegalArgumentException("invalid " + name + ": "
                    + (secret ? "the value" : "'" + format(value) + "'") + " " + problem);
        }
        return value;
    }

    /** The value when no source gives one: decided by the rest of {@code config} for some flags, else the default. */
    T unsetValue(BrokerConfig config) {
        return unsetDefault == null ? defaultValue : unsetDefault.apply(config);
    }

    // --- the kinds of value ------------------------------------------------------------------------------------

    /** A boolean, {@code true} or {@code false} in any case; alone on the command line it means true. */
    static Builder<Boolean> bool(String name) {
        return new Builder<Boolean>(name, null, text -> {
            String v = text.strip();
            if (!isBooleanWord(v)) {
                throw BadValue.invalid("is not true or false");
            }
            return Boolean.parseBoolean(v);
        }, v -> null).format(String::valueOf);
    }

    /** True for the words a boolean flag takes: {@code true} and {@code false}, in any case. */
    static boolean isBooleanWord(String text) {
        return text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false");
    }

    /** An int from {@code min} to {@code max}, written in decimal. */
    static Builder<Integer> integer(String name, String metavar, int min, int max) {
        String range = range(min, max);
        return new Builder<Integer>(name, metavar, text -> Math.toIntExact(readLong(text, min, max, range)),
                v -> v >= min && v <= max ? null : range).format(String::valueOf);
    }

    /** A long from {@code min} to {@code max}, written in decimal. */
    static Builder<Long> longInteger(String name, String metavar, long min, long max) {
        String range = range(min, max);
        return new Builder<Long>(name, metavar, text -> readLong(text, min, max, range),
                v -> v >= min && v <= max ? null : range).format(String::valueOf);
    }

    /** A non-empty value without blanks or control characters (it ends up in a header or a socket address). */
    static Builder<String> token(String name, String metavar, String expected) {
        return new Builder<String>(name, metavar, Flag::nonEmpty, v -> tokenProblem(v, expected)).format(v -> v);
    }

    /** An absolute http or https URL. */
    static Builder<String> url(String name, String metavar, String example) {
        return new Builder<String>(name, metavar, Flag::nonEmpty, v -> {
            String problem = tokenProblem(v, "an https URL such as " + example);
            return problem != null || isHttpUrl(v) ? problem : "is not an http(s) URL such as " + example;
        }).format(v -> v);
    }

    /** A fully qualified domain name; empty means none. */
    static Builder<String> domain(String name, String metavar) {
        return new Builder<String>(name, metavar, text -> text.strip().isEmpty() ? null : text.strip(),
                v -> DOMAIN_NAME.matcher(v).matches() ? null
                        : "is not a fully qualified domain name such as broker.example.com (no scheme, port or path)")
                .format(v -> v).optional();
    }

    /** A non-empty path. */
    static Builder<Path> path(String name, String metavar) {
        return new Builder<Path>(name, metavar, text -> toPath(nonEmpty(text)), v -> null).format(Path::toString);
    }

    /** A path, or none when empty. */
    static Builder<Path> optionalPath(String name, String metavar) {
        return new Builder<Path>(name, metavar, text -> text.strip().isEmpty() ? null : toPath(text), v -> null)
                .format(Path::toString).optional();
    }

    /**
     * A duration written as a whole number and a unit, {@code s}, {@code m}, {@code h} or {@code d} ({@code 30d},
     * {@code 12h}, {@code 90m}), or {@code 0}; at most {@code max}. Shown in the largest unit that divides it.
     */
    static Builder<Duration> duration(String name, String metavar, Duration max) {
        String expected = "is not a duration such as 30d, 12h, 90m or 0 (units s, m, h, d; at most "
                + formatDuration(max) + ")";
        return new Builder<Duration>(name, metavar, text -> {
            Matcher m = DURATION.matcher(text.strip());
            if (!m.matches()) {
                throw BadValue.invalid(expected);
            }
            if (m.group(2) == null) {
                return Duration.ZERO; // "0"
            }
            try {
                long amount = Long.parseLong(m.group(1));
                Duration unit = DURATION_UNITS.get(m.group(2));
                if (amount > max.dividedBy(unit)) {
                    throw BadValue.invalid(expected);
                }
                return unit.multipliedBy(amount);
            } catch (NumberFormatException tooLong) {
                throw BadValue.invalid(expected);
            }
        }, v -> v.isNegative() || v.compareTo(max) > 0 ? expected : null).format(Flag::formatDuration);
    }

    /** {@code 30d}, {@code 90m}, {@code 0}: in the largest unit that divides it. */
    static String formatDuration(Duration value) {
        if (value.isZero()) {
            return "0";
        }
        for (String unit : List.of("d", "h", "m", "s")) {
            Duration size = DURATION_UNITS.get(unit);
            if (value.toMillis() % size.toMillis() == 0) {
                return value.dividedBy(size) + unit;
            }
        }
        return value.toMillis() + "ms";
    }

    /** One of {@code choices}, as written (lower case). */
    static Builder<String> choice(String name, String metavar, List<String> choices) {
        String expected = "is not one of " + String.join(", ", choices);
        return new Builder<String>(name, metavar, text -> {
            String v = text.strip();
            if (!choices.contains(v)) {
                throw BadValue.invalid(expected);
            }
            return v;
        }, v -> choices.contains(v) ? null : expected).format(v -> v);
    }

    /**
     * A comma-separated list of {@code nats://} or {@code tls://} server URLs (host and port); none means unset.
     * Blanks around the commas are ignored. Secret, as a URL may carry a user and password (nats://user:pw@host).
     */
    static Builder<List<String>> natsUrls(String name, String metavar) {
        return new Builder<List<String>>(name, metavar, Flag::commaList, urls -> {
            for (String url : urls) {
                if (!isNatsUrl(url)) {
                    return "holds '" + withoutUserInfo(url) + "', which is not a URL such as nats://host:4222 or"
                            + " tls://host:4222";
                }
            }
            return null;
        }).format(urls -> String.join(",", urls.stream().map(Flag::withoutUserInfo).toList())).optional()
                // A URL may carry a user and password: never shown in descriptions and messages.
                .secret();
    }

    /** The URL with a user and password (nats://user:password@host) masked, for logs and messages. */
    private static String withoutUserInfo(String url) {
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        return scheme >= 0 && at > scheme ? url.substring(0, scheme + 3) + "***" + url.substring(at) : url;
    }

    /** A name made of ASCII letters, digits, '-' and '_' only, 1 to {@code maxLength} characters. */
    static Builder<String> simpleName(String name, String metavar, int maxLength) {
        return new Builder<String>(name, metavar, Flag::nonEmpty, v -> v.length() <= maxLength && isSimpleName(v)
                ? null : "is not 1 to " + maxLength + " characters of ASCII letters, digits, '-' and '_'")
                .format(v -> v);
    }

    /**
     * A comma-separated list of names (ASCII letters, digits, '-' and '_'), in order; blanks between commas are
     * ignored, and an empty list means unset.
     */
    static Builder<List<String>> nameList(String name, String metavar) {
        return new Builder<List<String>>(name, metavar, Flag::commaList, names -> {
            for (String each : names) {
                if (!isSimpleName(each)) {
                    return "holds '" + each + "', which is not a name of ASCII letters, digits, '-' and '_'";
                }
            }
            return null;
        }).format(names -> String.join(",", names)).optional();
    }

    /** The non-blank parts of a comma-separated list, stripped; null (unset) when there are none. */
    private static List<String> commaList(String text) {
        List<String> parts = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            if (!part.isBlank()) {
                parts.add(part.strip());
            }
        }
        return parts.isEmpty() ? null : List.copyOf(parts);
    }

    /** Only ASCII letters, digits, '-' and '_'. */
    private static boolean isSimpleName(String text) {
        return text.chars().allMatch(ch -> ch < 128 && (Character.isLetterOrDigit(ch) || ch == '-' || ch == '_'));
    }

    /** A non-empty string taken as it is, never shown. */
    static Builder<String> secret(String name, String metavar) {
        return new Builder<String>(name, metavar, Flag::nonEmpty, v -> v.isEmpty() ? "is empty" : null)
                .format(v -> v).secret();
    }

    private static String range(long min, long max) {
        return "is not an integer between " + min + " and " + max;
    }

    private static long readLong(String text, long min, long max, String range) throws BadValue {
        String v = text.strip();
        if (INTEGER.matcher(v).matches()) {
            try {
                long n = Long.parseLong(v);
                if (n >= min && n <= max) {
                    return n;
                }
            } catch (NumberFormatException tooLong) {
                // out of range, reported below
            }
        }
        throw BadValue.invalid(range);
    }

    private static String nonEmpty(String text) throws BadValue {
        if (text.isEmpty()) {
            throw BadValue.empty();
        }
        return text;
    }

    private static String tokenProblem(String v, String expected) {
        if (v.isEmpty()) {
            return "is empty; expected " + expected;
        }
        if (v.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
            return "contains blanks or control characters; expected " + expected;
        }
        return null;
    }

    private static boolean isHttpUrl(String v) {
        try {
            URI uri = new URI(v);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            return (scheme.equals("https") || scheme.equals("http")) && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static boolean isNatsUrl(String v) {
        try {
            URI uri = new URI(v);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            return (scheme.equals("nats") || scheme.equals("tls")) && uri.getHost() != null
                    && (uri.getPath() == null || uri.getPath().isEmpty()) && uri.getQuery() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static Path toPath(String text) throws BadValue {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw BadValue.invalid("is not a valid path");
        }
    }

    /** The parts of a declaration; {@link Flags} finishes each with the default and the meaning. */
    static final class Builder<T> {
        private final String name;
        private final String metavar;
        private final Reader<T> reader;
        private final Check<T> check;
        private T defaultValue;
        private Function<BrokerConfig, T> unsetDefault;
        private String defaultText;
        private Function<T, String> format;
        private String meaning;
        private boolean optional;
        private boolean secret;
        private boolean advanced;

        private Builder(String name, String metavar, Reader<T> reader, Check<T> check) {
            this.name = name;
            this.metavar = metavar;
            this.reader = reader;
            this.check = check;
        }

        Builder<T> defaultValue(T value) {
            this.defaultValue = value;
            return this;
        }

        /**
         * When no source gives the flag, its value follows from the rest of the configuration (the plain defaults
         * and every value given); {@code shown} is the default in the usage text.
         */
        Builder<T> unsetDefault(Function<BrokerConfig, T> rule, String shown) {
            this.unsetDefault = rule;
            this.defaultText = shown;
            return this;
        }

        Builder<T> format(Function<T, String> format) {
            this.format = format;
            return this;
        }

        Builder<T> meaning(String meaning) {
            this.meaning = meaning;
            return this;
        }

        Builder<T> advanced() {
            this.advanced = true;
            return this;
        }

        private Builder<T> optional() {
            this.optional = true;
            return this;
        }

        private Builder<T> secret() {
            this.secret = true;
            return this;
        }

        Flag<T> build() {
            return new Flag<>(this);
        }
    }
}
