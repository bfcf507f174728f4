package dev.broker.server.config;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Every setting of {@link BrokerConfig}, with the one name it goes by everywhere: {@code --name} on the command
 * line, {@code BROKER_NAME} in the environment and {@code name} in a configuration file.
 */
public enum Flag {
    ORIGIN("origin", "VALUE", c -> c.origin(),
            "value of Access-Control-Allow-Origin (CORS); * allows any origin"),
    PORT("port", "PORT", c -> c.port() + " (" + BrokerConfig.DEFAULT_SECURE_PORT + " with --secure)",
            "TCP port to listen on, 0..65535; 0 picks a free port"),
    BIND("bind", "ADDRESS", c -> c.bind(),
            "address to listen on; 0.0.0.0 is every IPv4 interface, 127.0.0.1 only this machine"),
    SECURE("secure", null, c -> Boolean.toString(c.secure()),
            "serve HTTPS (TLS) instead of plain HTTP; --secure alone means true"),
    DOMAIN("domain", "NAME", c -> c.domain() == null ? "none" : c.domain(),
            "domain to obtain and renew a Let's Encrypt certificate for (with --secure)"),
    CERTS("certs", "DIR", c -> c.certs().toString(),
            "directory of TLS material: ACME account and certificates, or your own cert.pem + key.pem"),
    ACME_DIRECTORY("acme_directory", "URL", c -> c.acmeDirectory(),
            "ACME directory that --domain certificates come from (Let's Encrypt staging, another CA, a test server)"),
    ACME_TRUST("acme_trust", "FILE", c -> c.acmeTrust() == null ? "none" : c.acmeTrust().toString(),
            "PEM file of CA certificates to check the ACME directory's HTTPS against instead of the JVM's"),
    HTTP_PORT("http_port", "PORT", c -> c.httpPort() == BrokerConfig.HTTP_PORT_OFF ? "-1 (off)" : Integer.toString(c.httpPort()),
            "with --secure: plain-HTTP port for ACME HTTP-01 challenges and redirects to HTTPS (80 by default with"
                    + " --domain); -1 turns it off"),
    DB("db", "DIR", c -> c.db().toString(),
            "directory of the embedded database"),
    ADMIN_TOKEN("admin_token", "TOKEN", c -> c.adminToken(),
            "secret that gates the user-management endpoints; prefer the environment to the command line"),
    JWT_SECRET("jwt_secret", "SECRET", c -> c.jwtSecret(),
            "HS256 key, the UTF-8 bytes of this string; use 32 or more random bytes"),
    JWT_EXPIRY("jwt_expiry", "SECONDS", c -> Long.toString(c.jwtExpirySeconds()),
            "lifetime of issued JWTs, in seconds (at least 1)"),
    HEARTBEAT("heartbeat", "SECONDS", c -> Integer.toString(c.heartbeatSeconds()),
            "seconds between SSE heartbeat comments; 0 turns them off"),
    MAX_BODY("max_body", "BYTES", c -> Integer.toString(c.maxBodyBytes()),
            "largest accepted request body in bytes, 1..67108864 (64 MiB); larger gets 413");

    private final String flagName;
    private final String metavar;
    private final Function<BrokerConfig, String> render;
    private final String meaning;

    Flag(String flagName, String metavar, Function<BrokerConfig, String> render, String meaning) {
        this.flagName = flagName;
        this.metavar = metavar;
        this.render = render;
        this.meaning = meaning;
    }

    /** The name without dashes, as used for keys of the configuration file: {@code admin_token}. */
    public String flagName() {
        return flagName;
    }

    /** The command-line spelling: {@code --admin_token}. */
    public String cliName() {
        return "--" + flagName;
    }

    /** The environment variable: {@code BROKER_ADMIN_TOKEN}. */
    public String envName() {
        return "BROKER_" + flagName.toUpperCase(Locale.ROOT);
    }

    /** True for a flag that may stand alone on the command line ({@code --secure} means true). */
    public boolean isBoolean() {
        return metavar == null;
    }

    /** True for values that are never printed: they appear masked in descriptions and error messages. */
    public boolean isSecret() {
        return this == ADMIN_TOKEN || this == JWT_SECRET;
    }

    /** The placeholder for the value in the usage text, or null for a boolean flag. */
    public String metavar() {
        return metavar;
    }

    /** What the setting means, one line. */
    public String meaning() {
        return meaning;
    }

    /** The default as shown in the usage text, taken from {@link BrokerConfig#defaults()}. */
    public String defaultText() {
        return render.apply(BrokerConfig.defaults());
    }

    /** The value of this setting in {@code config} as text, unmasked. */
    String valueText(BrokerConfig config) {
        return this == PORT ? Integer.toString(config.port()) : render.apply(config);
    }

    /** The flag whose name is exactly {@code name} (no dashes). */
    public static Optional<Flag> byName(String name) {
        for (Flag f : values()) {
            if (f.flagName.equals(name)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
