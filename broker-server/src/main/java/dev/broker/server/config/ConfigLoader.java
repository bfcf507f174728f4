package dev.broker.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeSet;

/**
 * Turns the command line, the environment and an optional configuration file into one {@link BrokerConfig}.
 * The flags themselves, with their values and help texts, are declared in {@link Flags}; this class knows only
 * the sources and the wording around them.
 *
 * <p>Every {@link Flag} can be given as {@code --name=value} or {@code --name value} on the command line, as
 * {@code BROKER_NAME} in the environment, or as a {@code name = value} line of a configuration file
 * ({@link Properties} syntax, {@code #} comments) named by {@code --config FILE} or {@code BROKER_CONFIG}. For each
 * setting the first source that has it wins: command line, environment, file, default. Within the command line
 * the last occurrence of a flag wins. Only the winning value is parsed, so a bad value that is overridden does not
 * stop the server; unknown keys in the file always do.
 *
 * <p>Rules worth knowing:
 * <ul>
 *   <li>A boolean flag alone ({@code --secure}) means true; it takes the next argument as its value only when that
 *       is {@code true} or {@code false}. Booleans accept exactly those two words, in any case.</li>
 *   <li>In the {@code --name value} form an argument starting with {@code --} is never taken as the value, so a
 *       value that starts with {@code --} must be written {@code --name=--value}.</li>
 *   <li>The port defaults to 8080, or 443 when {@code secure} is true and no source gives a port. 0 picks a free
 *       port (tests read it back from the server).</li>
 *   <li>An empty value is an error, except for {@code domain} and {@code acme_trust}, where it means none. An empty {@code BROKER_*}
 *       variable counts as given: {@code BROKER_ADMIN_TOKEN=} is an error, not a silent fall-back to the
 *       default.</li>
 *   <li>Values read from the file are trimmed (trailing blanks in a properties file are invisible and
 *       surprising); values from the command line and the environment are taken as they are, except that
 *       numbers and booleans are trimmed everywhere.</li>
 *   <li>Environment variables starting with {@code BROKER_} that name no flag are ignored: other tools may set
 *       them.</li>
 * </ul>
 *
 * <p>{@link #load} neither logs nor prints. Secrets ({@code admin_token}, {@code jwt_secret}) never appear in its
 * messages, in {@link #describe} or in {@link #warnings}.
 */
public final class ConfigLoader {

    /** Name of the flag, and of the variable {@code BROKER_CONFIG}, that points at a configuration file. */
    public static final String CONFIG_FLAG = "config";
    public static final String CONFIG_ENV = "BROKER_CONFIG";

    /** The JWT secret should have at least this many UTF-8 bytes (the size of an HS256 key). */
    public static final int MIN_JWT_SECRET_BYTES = 32;

    private static final int MAX_ECHO = 60;

    private ConfigLoader() {
    }

    /** {@link #load(String[], Map)} with the process environment. */
    public static BrokerConfig load(String[] args) {
        return load(args, System.getenv());
    }

    /**
     * Builds the configuration from the command line {@code args}, the environment {@code env} and the file named
     * by {@code --config} or {@code BROKER_CONFIG}, if any.
     *
     * @throws HelpRequested   when {@code args} hold {@code --help} or {@code -h}, even next to mistakes
     * @throws ConfigException on any unknown flag, missing or bad value, unknown key or unreadable file
     */
    public static BrokerConfig load(String[] args, Map<String, String> env) {
        Objects.requireNonNull(args, "args");
        Objects.requireNonNull(env, "env");
        CommandLine cli = CommandLine.parse(args);
        if (cli.help) {
            throw new HelpRequested();
        }
        if (cli.error != null) {
            throw new ConfigException(cli.error);
        }

        Map<Flag<?>, Setting> settings = new LinkedHashMap<>();
        Setting configFile = cli.configFile != null ? cli.configFile : fromEnv(env, CONFIG_ENV, null);
        if (configFile != null) {
            readFile(configFile, settings);
        }
        for (Flag<?> flag : Flags.all()) {
            Setting s = fromEnv(env, flag.envName(), flag);
            if (s != null) {
                settings.put(flag, s);
            }
        }
        settings.putAll(cli.settings);
        return build(settings);
    }

    /**
     * The start-up warnings for {@code config}, one line each and never containing a secret: the admin token or
     * the JWT secret still at its default, a JWT secret shorter than {@value #MIN_JWT_SECRET_BYTES} UTF-8 bytes,
     * and a domain given without {@code secure}. Empty when all is well.
     */
    public static List<String> warnings(BrokerConfig config) {
        List<String> warnings = new ArrayList<>();
        if (config.isDefault(Flags.ADMIN_TOKEN)) {
            warnings.add("admin_token is the default '" + Flags.DEFAULT_ADMIN_TOKEN
                    + "': anyone can create, list and revoke users; set BROKER_ADMIN_TOKEN to a long random string");
        }
        int secretBytes = config.get(Flags.JWT_SECRET).getBytes(StandardCharsets.UTF_8).length;
        if (config.isDefault(Flags.JWT_SECRET)) {
            warnings.add("jwt_secret is the default '" + Flags.DEFAULT_JWT_SECRET
                    + "': anyone can forge tokens; set BROKER_JWT_SECRET to a random string of at least "
                    + MIN_JWT_SECRET_BYTES + " bytes");
        } else if (secretBytes < MIN_JWT_SECRET_BYTES) {
            warnings.add("jwt_secret is only " + secretBytes + " bytes long: an HS256 key should have at least "
                    + MIN_JWT_SECRET_BYTES + " random bytes (e.g. openssl rand -base64 32)");
        }
        if (config.get(Flags.DOMAIN) != null && !config.get(Flags.SECURE)) {
            warnings.add("domain is set but secure is false: the server speaks plain HTTP and obtains no certificate");
        }
        return warnings;
    }

    /**
     * The contract's refusal: with {@code secure}, the server does not start while the admin token or the JWT
     * secret is still the default. Does nothing without {@code secure}.
     *
     * @throws ConfigException naming the default values still in place
     */
    public static void checkSecureStart(BrokerConfig config) {
        if (!config.get(Flags.SECURE)) {
            return;
        }
        boolean adminDefault = config.isDefault(Flags.ADMIN_TOKEN);
        boolean secretDefault = config.isDefault(Flags.JWT_SECRET);
        if (adminDefault && secretDefault) {
            throw new ConfigException("refusing to start with --secure: admin_token and jwt_secret are still the"
                    + " defaults; set BROKER_ADMIN_TOKEN and BROKER_JWT_SECRET");
        }
        if (adminDefault) {
            throw new ConfigException("refusing to start with --secure: admin_token is still the default '"
                    + Flags.DEFAULT_ADMIN_TOKEN + "'; set BROKER_ADMIN_TOKEN");
        }
        if (secretDefault) {
            throw new ConfigException("refusing to start with --secure: jwt_secret is still the default '"
                    + Flags.DEFAULT_JWT_SECRET + "'; set BROKER_JWT_SECRET");
        }
    }

    /**
     * One line describing {@code config} for the start-up log, with the secrets ({@code admin_token},
     * {@code jwt_secret}) masked: {@code ***}, or {@code <default>} while they are the well-known defaults.
     */
    public static String describe(BrokerConfig config) {
        StringBuilder b = new StringBuilder();
        describedValues(config).forEach((name, value) -> {
            if (b.length() > 0) {
                b.append(' ');
            }
            b.append(name).append('=').append(value);
        });
        return b.toString();
    }

    /** Every flag's name and value as {@link #describe} writes them (secrets masked), in declaration order. */
    public static Map<String, String> describedValues(BrokerConfig config) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Flag<?> flag : Flags.all()) {
            if (flag.isSecret()) {
                values.put(flag.name(), config.isDefault(flag) ? "<default>" : "***");
            } else {
                values.put(flag.name(), config.valueText(flag));
            }
        }
        return values;
    }

    /**
     * The text for {@code --help}: every flag with its environment variable, default and meaning, the advanced
     * ones in a section of their own.
     */
    public static String usage() {
        StringBuilder b = new StringBuilder();
        b.append("Usage: java -jar broker.jar [--name=value | --name value]...\n")
                .append("       java -jar broker.jar export|import [flags]  (move data as JSON lines; export --help)\n")
                .append("\n")
                .append("Broker: insert events over HTTP, subscribe to them over Server-Sent Events.\n")
                .append("Every flag can also be set in the environment as BROKER_<NAME>, which keeps secrets out of\n")
                .append("ps, or as a 'name = value' line of the configuration file (# starts a comment).\n")
                .append("Precedence: command line > environment > configuration file > default.\n")
                .append("\n")
                .append("Flags:\n");
        List<UsageEntry> flags = flagEntries(false);
        flags.add(new UsageEntry("--" + CONFIG_FLAG + " FILE", CONFIG_ENV, "none",
                "configuration file of 'name = value' lines; keys are the flag names without --"));
        flags.add(new UsageEntry("--help, -h", null, null, "print this help and exit"));
        appendEntries(b, flags);
        b.append("\n")
                .append("Advanced flags (the SSE fan-out and its snapshot caches; the defaults suit most servers):\n");
        appendEntries(b, flagEntries(true));
        b.append("\n")
                .append("Unknown flags, unknown keys in the configuration file and malformed values stop the server\n")
                .append("with a message and a non-zero exit status. With --secure it refuses to start while\n")
                .append("admin_token or jwt_secret is still the default.\n");
        return b.toString();
    }

    /** One entry of the usage text; {@code env} is null for {@code --help}. */
    private record UsageEntry(String left, String env, String defaultText, String meaning) {
    }

    private static List<UsageEntry> flagEntries(boolean advanced) {
        List<UsageEntry> entries = new ArrayList<>();
        for (Flag<?> flag : Flags.all()) {
            if (flag.isAdvanced() == advanced) {
                String left = flag.isBoolean()
                        ? flag.cliName() + "[=true|false]" : flag.cliName() + " " + flag.metavar();
                entries.add(new UsageEntry(left, flag.envName(), flag.defaultText(), flag.meaning()));
            }
        }
        return entries;
    }

    /** The entries with their environment variables and defaults in columns, as wide as the section needs. */
    private static void appendEntries(StringBuilder b, List<UsageEntry> entries) {
        int leftWidth = 26;
        int envWidth = 22;
        for (UsageEntry e : entries) {
            if (e.env() != null) {
                leftWidth = Math.max(leftWidth, e.left().length() + 2);
                envWidth = Math.max(envWidth, e.env().length() + 1);
            }
        }
        for (UsageEntry e : entries) {
            b.append("  ").append(e.left());
            if (e.env() != null) {
                b.append(" ".repeat(leftWidth - e.left().length()))
                        .append("env ").append(e.env())
                        .append(" ".repeat(envWidth - e.env().length()))
                        .append("default ").append(e.defaultText());
            }
            b.append("\n      ").append(e.meaning()).append("\n");
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** One value and where it came from, for error messages: {@code --port}, {@code BROKER_PORT}, a file key. */
    private record Setting(Flag<?> flag, String value, String source) {
    }

    /** The command line, split into settings without judging their values yet. */
    private static final class CommandLine {
        final Map<Flag<?>, Setting> settings = new LinkedHashMap<>();
        Setting configFile;
        boolean help;
        String error;

        static CommandLine parse(String[] args) {
            CommandLine cli = new CommandLine();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("--help") || arg.equals("-h")) {
                    cli.help = true; // wins over every mistake, so keep scanning for it after an error
                    continue;
                }
                if (cli.error != null) {
                    continue;
                }
                if (!arg.startsWith("--")) {
                    cli.error = arg.startsWith("-") && arg.length() > 1
                            ? "unknown flag " + quote(arg) + ": flags start with -- (run with --help to list them)"
                            : "unexpected argument " + quote(arg)
                                    + ": flags are written --name=value or --name value";
                    continue;
                }
                String body = arg.substring(2);
                int eq = body.indexOf('=');
                String name = eq >= 0 ? body.substring(0, eq) : body;
                String value = eq >= 0 ? body.substring(eq + 1) : null;
                boolean isConfig = name.equals(CONFIG_FLAG);
                Flag<?> flag = isConfig ? null : Flags.byName(name).orElse(null);
                String cliName = "--" + name;
                if (!isConfig && flag == null) {
                    cli.error = name.equals("help")
                            ? "--help takes no value"
                            : "unknown flag " + quote(eq >= 0 ? cliName : arg) + suggestion(name, "--")
                                    + " (run with --help to list the flags)";
                    continue;
                }
                if (value == null) {
                    String next = i + 1 < args.length ? args[i + 1] : null;
                    if (flag != null && flag.isBoolean()) {
                        if (next != null && Flag.isBooleanWord(next)) {
                            value = next;
                            i++;
                        } else {
                            value = "true";
                        }
                    } else if (next != null && !next.startsWith("--")) {
                        value = next;
                        i++;
                    } else {
                        cli.error = cliName + " needs a value: " + cliName + "=VALUE or " + cliName + " VALUE";
                        continue;
                    }
                }
                if (isConfig) {
                    cli.configFile = new Setting(null, value, cliName);
                } else {
                    cli.settings.put(flag, new Setting(flag, value, cliName));
                }
            }
            return cli;
        }
    }

    private static Setting fromEnv(Map<String, String> env, String name, Flag<?> flag) {
        String value = env.get(name);
        return value == null ? null : new Setting(flag, value, name);
    }

    private static void readFile(Setting configFile, Map<Flag<?>, Setting> settings) {
        String where = configFile.source();
        if (configFile.value().isBlank()) {
            throw new ConfigException(where + " is empty: it must name a configuration file");
        }
        Path path;
        try {
            path = Path.of(configFile.value());
        } catch (InvalidPathException e) {
            throw new ConfigException(where + ": " + quote(configFile.value()) + " is not a valid path");
        }
        String file = "configuration file " + path + " (from " + where + ")";
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + " cannot be read: no such file", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException(file + " cannot be read: permission denied", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException(file + " cannot be read: it is not valid UTF-8", e);
        } catch (IOException e) {
            String reason = Files.isDirectory(path) ? "it is a directory" : String.valueOf(e.getMessage());
            throw new ConfigException(file + " cannot be read: " + reason, e);
        } catch (IllegalArgumentException e) { // a malformed \\uXXXX escape
            throw new ConfigException(file + " cannot be read: " + e.getMessage(), e);
        }
        for (String key : new TreeSet<>(properties.stringPropertyNames())) {
            Flag<?> flag = Flags.byName(key).orElse(null);
            if (flag == null) {
                String hint = key.equals(CONFIG_FLAG)
                        ? ": a configuration file cannot name another one"
                        : suggestion(key, "") + " (keys are the flag names without --, e.g. port)";
                throw new ConfigException("unknown key " + quote(key) + " in " + file + hint);
            }
            settings.put(flag, new Setting(flag, properties.getProperty(key).strip(), key + " in " + path));
        }
    }

    /** Parses the winning setting of every flag given; the rest keep the values they take when unset. */
    private static BrokerConfig build(Map<Flag<?>, Setting> settings) {
        Map<Flag<?>, Object> given = new LinkedHashMap<>();
        for (Setting s : settings.values()) {
            try {
                given.put(s.flag(), s.flag().parse(s.value()));
            } catch (Flag.BadValue e) {
                throw e.isEmpty() ? empty(s) : invalid(s, e.problem());
            }
        }
        return BrokerConfig.of(given);
    }

    private static ConfigException empty(Setting s) {
        return new ConfigException(s.source() + " is empty: give it a value, or leave it out for the default");
    }

    private static ConfigException invalid(Setting s, String problem) {
        String shown = s.flag().isSecret() ? "the value" : quote(s.value());
        return new ConfigException("invalid " + s.source() + ": " + shown + " " + problem);
    }

    /** " (did you mean --jwt_expiry?)" for near misses such as --jwt-expiry, --JWT_EXPIRY or --Port. */
    private static String suggestion(String name, String prefix) {
        String normal = name.replaceFirst("^-+", "").replace('-', '_').toLowerCase(Locale.ROOT);
        if (normal.equals(CONFIG_FLAG) && !prefix.isEmpty()) {
            return "; did you mean --config?";
        }
        return Flags.byName(normal).map(f -> "; did you mean " + prefix + f.name() + "?").orElse("");
    }

    /** The value in quotes, shortened and with control characters escaped, for a one-line message. */
    private static String quote(String value) {
        StringBuilder b = new StringBuilder("'");
        int shown = Math.min(value.length(), MAX_ECHO);
        for (int i = 0; i < shown; i++) {
            char ch = value.charAt(i);
            if (Character.isISOControl(ch)) {
                b.append(String.format("\\u%04x", (int) ch));
            } else {
                b.append(ch);
            }
        }
        if (value.length() > MAX_ECHO) {
            b.append("...");
        }
        return b.append('\'').toString();
    }
}
