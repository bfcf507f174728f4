package dev.broker.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.BrokerServer;
import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.Flags;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator over TLS against a real {@code --secure} server started in-process: every event reaches every
 * subscriber over HTTP/1.1 and over HTTP/2 streams sharing connections, and reconnecting subscribers resume their
 * TLS sessions.
 */
class TlsLoadGeneratorSmokeTest {

    private static final String ADMIN_TOKEN = "smoke-admin-token-0123456789abcdef";
    private static final String JWT_SECRET = "smoke-jwt-secret-of-at-least-32-bytes!";
    private static final PrintStream PROGRESS = System.out;

    @TempDir
    static Path dir;
    private static BrokerServer server;

    @BeforeAll
    static void startServer() throws Exception {
        SelfSignedPem.write(dir.resolve("certs"));
        server = BrokerServer.start(BrokerConfig.defaults()
                .with(Flags.PORT, 0)
                .with(Flags.BIND, "127.0.0.1")
                .with(Flags.SECURE, true)
                .with(Flags.CERTS, dir.resolve("certs"))
                .with(Flags.HTTP_PORT, Flags.HTTP_PORT_OFF)
                .with(Flags.DB, dir.resolve("db"))
                .with(Flags.ADMIN_TOKEN, ADMIN_TOKEN)
                .with(Flags.JWT_SECRET, JWT_SECRET));
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private static Result run(String mode, String... flags) throws Exception {
        List<String> pairs = new ArrayList<>(List.of(
                "url", "https://127.0.0.1:" + server.port(),
                "ca", dir.resolve("certs/cert.pem").toString(),
                "admin-token", ADMIN_TOKEN,
                "server-pid", Long.toString(ProcessHandle.current().pid()),
                "source-addresses", "2"));
        pairs.addAll(List.of(flags));
        Result result = LoadGenerator.run(mode, Options.of(pairs.toArray(String[]::new)), PROGRESS);
        PROGRESS.println(result.line());
        return result;
    }

    @Test
    void fanoutOverTlsDeliversEveryEvent() throws Exception {
        Result result = run("fanout", "subs", "5", "rate", "40", "duration", "0.5", "warmup", "0.25", "drain", "10");
        assertEquals("https", result.get("scheme"));
        assertEquals("http/1.1", result.get("tls"));
        assertTrue(String.valueOf(result.get("tls_negotiated")).startsWith("TLSv1.3/"), "TLS 1.3 only");
        assertTrue(String.valueOf(result.get("tls_negotiated")).endsWith("/X25519MLKEM768"),
                "both sides on BoringSSL's defaults agree on the hybrid: " + result.get("tls_negotiated"));
        assertEquals(5.0, result.number("tls_handshakes"));
        assertEquals(100.0, result.number("deliveries"));
        assertEquals(1.0, result.number("delivered_frac"));
    }

    @Test
    void fanoutOverHttp2SharesConnectionsBetweenStreams() throws Exception {
        Result result = run("fanout", "subs", "7", "h2-streams-per-conn", "3", "rate", "40", "duration", "0.5",
                "warmup", "0.25", "drain", "10", "tls-groups", "X25519");
        assertEquals("h2", result.get("tls"));
        assertTrue(String.valueOf(result.get("tls_negotiated")).endsWith("/X25519"), "--tls-groups is offered");
        assertEquals(3.0, result.number("tls_handshakes"), "7 streams, 3 to a connection: 3 connections");
        assertEquals(7.0, result.number("subs_open"));
        assertEquals(140.0, result.number("deliveries"));
        assertEquals(0.0, result.number("disconnects"));
    }

    @Test
    void reconnectingSubscribersResumeTheirSessions() throws Exception {
        // Enough subscribers connecting together that a session shared between them would be resumed by some.
        Result result = run("reconnect", "subs", "20", "names", "20", "missed", "3", "timeout", "20");
        assertEquals(20.0, result.number("snapshot_complete"));
        assertEquals(20.0, result.number("resume_complete"));
        assertEquals(0.0, result.number("initial_tls_resumed"), "a subscriber's first connection is a full handshake");
        assertEquals(20.0, result.number("snapshot_tls_handshakes"));
        assertEquals(1.0, result.number("snapshot_tls_resumed_frac"), "every reconnect resumed its session");
        assertEquals(1.0, result.number("resume_tls_resumed_frac"));
        assertTrue(result.number("snapshot_server_cpu_us_per_handshake") > 0);
    }

    @Test
    void insertsOverTlsAreAcknowledged() throws Exception {
        Result result = run("inserts", "conns", "4", "pipeline", "2", "duration", "0.5", "warmup", "0.2");
        assertTrue(result.number("inserts") > 0);
        assertEquals(0.0, result.number("failures"));
        assertEquals(0.0, result.number("mismatched"));
    }

    @Test
    void http2NeedsAnHttpsUrl() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoadGenerator.run("fanout",
                Options.of("url", "http://127.0.0.1:1", "admin-token", ADMIN_TOKEN, "h2-streams-per-conn", "10"),
                PROGRESS));
        assertTrue(e.getMessage().contains("https"), e.getMessage());
    }
}
