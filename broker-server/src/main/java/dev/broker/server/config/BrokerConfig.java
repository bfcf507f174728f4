package dev.broker.server.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Broker's configuration, parsed once at start-up (see {@link ConfigLoader}) and immutable afterwards.
 * The {@code with*} methods return modified copies, which keeps tests short.
 *
 * @param origin           value of {@code Access-Control-Allow-Origin}
 * @param port             TCP port; 0 picks a free one
 * @param jwtExpirySeconds lifetime of issued JWTs
 * @param jwtSecret        HS256 key, as the UTF-8 bytes of this string
 * @param secure           serve HTTPS instead of plain HTTP
 * @param certs            directory of TLS material
 * @param db               directory of the embedded database
 * @param adminToken       the secret that gates the user-management endpoints
 * @param domain           domain to obtain a certificate for, or null
 * @param heartbeatSeconds seconds between SSE heartbeat comments; 0 turns them off
 * @param bind             address to listen on
 * @param maxBodyBytes     largest accepted request body
 * @param acmeDirectory    URL of the ACME directory certificates for {@code domain} are obtained from
 * @param acmeTrust        PEM file of the CA certificates that the ACME directory's HTTPS is checked against
 *                         instead of the JVM's trust store (a private ACME CA, a test server), or null
 * @param httpPort         with {@code secure}: the plain-HTTP port that answers ACME HTTP-01 challenges and
 *                         redirects everything else to HTTPS; 0 picks a free port, -1 turns it off
 */
public record BrokerConfig(
        String origin,
        int port,
        long jwtExpirySeconds,
        String jwtSecret,
        boolean secure,
        Path certs,
        Path db,
        String adminToken,
        String domain,
        int heartbeatSeconds,
        String bind,
        int maxBodyBytes,
        String acmeDirectory,
        Path acmeTrust,
        int httpPort) {

    public static final String DEFAULT_ADMIN_TOKEN = "letmein";
    public static final String DEFAULT_JWT_SECRET = "secret";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_SECURE_PORT = 443;
    /** Let's Encrypt's production ACME directory. */
    public static final String LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";
    /** The value of {@code httpPort} that turns the plain-HTTP listener off: the default, except with a domain. */
    public static final int HTTP_PORT_OFF = -1;
    /** The plain-HTTP port opened by default with {@code --domain}: ACME's HTTP-01 challenges arrive on 80. */
    public static final int ACME_HTTP_PORT = 80;

    public BrokerConfig {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(jwtSecret, "jwtSecret");
        Objects.requireNonNull(certs, "certs");
        Objects.requireNonNull(db, "db");
        Objects.requireNonNull(adminToken, "adminToken");
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(acmeDirectory, "acmeDirectory");
    }

    /** The configuration as it was before the ACME and plain-HTTP settings, with their defaults. */
    public BrokerConfig(String origin, int port, long jwtExpirySeconds, String jwtSecret, boolean secure, Path certs,
                        Path db, String adminToken, String domain, int heartbeatSeconds, String bind, int maxBodyBytes) {
        this(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind,
                maxBodyBytes, LETS_ENCRYPT_DIRECTORY, null, HTTP_PORT_OFF);
    }

    /** The embedded defaults of the contract: port 8080, database {@code db}, admin token {@code letmein}. */
    public static BrokerConfig defaults() {
        return new BrokerConfig("*", DEFAULT_PORT, 86_400, DEFAULT_JWT_SECRET, false, Path.of("certs"), Path.of("db"),
                DEFAULT_ADMIN_TOKEN, null, 30, "0.0.0.0", 1024 * 1024, LETS_ENCRYPT_DIRECTORY, null, HTTP_PORT_OFF);
    }

    public BrokerConfig withOrigin(String v) {
        return new BrokerConfig(v, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withPort(int v) {
        return new BrokerConfig(origin, v, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withJwtExpirySeconds(long v) {
        return new BrokerConfig(origin, port, v, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withJwtSecret(String v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, v, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withSecure(boolean v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, v, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withCerts(Path v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, v, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withDb(Path v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, v, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withAdminToken(String v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, v, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withDomain(String v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, v, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withHeartbeatSeconds(int v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, v, bind, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withBind(String v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, v, maxBodyBytes, acmeDirectory, acmeTrust, httpPort);
    }

    public BrokerConfig withAcmeDirectory(String v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, v, acmeTrust, httpPort);
    }

    public BrokerConfig withAcmeTrust(Path v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, v, httpPort);
    }

    public BrokerConfig withHttpPort(int v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, maxBodyBytes, acmeDirectory, acmeTrust, v);
    }

    public BrokerConfig withMaxBodyBytes(int v) {
        return new BrokerConfig(origin, port, jwtExpirySeconds, jwtSecret, secure, certs, db, adminToken, domain, heartbeatSeconds, bind, v, acmeDirectory, acmeTrust, httpPort);
    }
}
