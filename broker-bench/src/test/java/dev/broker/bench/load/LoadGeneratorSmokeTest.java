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
 * Every load-generator mode once, at a tiny size, against the real server started in-process: the numbers are
 * produced and every event reaches every subscriber. (Nchan is measured by bench/run.sh, not here.)
 */
class LoadGeneratorSmokeTest {

    private static final String ADMIN_TOKEN = "smoke-admin-token-0123456789abcdef";
    private static final String JWT_SECRET = "smoke-jwt-secret-of-at-least-32-bytes!";
    private static final PrintStream PROGRESS = System.out;

    @TempDir
    static Path dir;
    private static BrokerServer server;

    @BeforeAll
    static void startServer() {
        server = BrokerServer.start(BrokerConfig.defaults()
                .with(Flags.PORT, 0)
                .with(Flags.BIND, "127.0.0.1")
                .with(Flags.DB, dir.resolve("db"))
                .with(Flags.ADMIN_TOKEN, ADMIN_TOKEN)
                .with(Flags.JWT_SECRET, JWT_SECRET)
                // A few subscribers only: small fan-out tasks, so that they still cross task boundaries.
                .with(Flags.SSE_FAN_OUT_CHUNK, 3));
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private static Result run(String mode, String... flags) throws Exception {
        List<String> pairs = new ArrayList<>(List.of(
                "url", "http://127.0.0.1:" + server.port(),
                "admin-token", ADMIN_TOKEN,
                "server-pid", Long.toString(ProcessHandle.current().pid()),
                "source-addresses", "2"));
        pairs.addAll(List.of(flags));
        Result result = LoadGenerator.run(mode, Options.of(pairs.toArray(String[]::new)), PROGRESS);
        PROGRESS.println(result.line());
        return result;
    }

    @Test
    void fanoutDeliversEveryEventToEverySubscriber() throws Exception {
        Result result = run("fanout", "subs", "5", "rate", "40", "duration", "0.5", "warmup", "0.25", "drain", "10");
        assertEquals(5.0, result.number("subs_open"));
        assertEquals(20.0, result.number("events_acked"));
        assertEquals(100.0, result.number("deliveries"));
        assertEquals(1.0, result.number("delivered_frac"));
        assertEquals(0.0, result.number("disconnects"));
        assertTrue(result.number("deliveries_per_s") > 0);
        assertTrue(result.number("latency_p99_ms") >= result.number("latency_p50_ms"));
        assertTrue(result.number("server_cpu_s_per_M_deliveries") >= 0);
    }

    @Test
    void fanoutSpreadsSubscribersOverSubUrlsAndWatchesAPeer() throws Exception {
        // Two URLs of the same server stand for two edges of a cluster: every subscriber still gets every event.
        String url = "http://127.0.0.1:" + server.port();
        Result result = run("fanout", "subs", "4", "rate", "40", "duration", "0.5", "warmup", "0.25", "drain", "10",
                "sub-urls", url + "," + url, "peer-pid", Long.toString(ProcessHandle.current().pid()));
        assertEquals(4.0, result.number("subs_open"));
        assertEquals(80.0, result.number("deliveries"));
        assertEquals(1.0, result.number("delivered_frac"));
        assertTrue(result.number("peer_cpu_s") >= 0);
    }

    @Test
    void subUrlsMustBeLoopbackWithTheSchemeOfTheUrl() {
        assertThrows(IllegalArgumentException.class, () -> run("fanout", "sub-urls", "http://10.0.0.1:8080"));
        assertThrows(IllegalArgumentException.class, () -> run("fanout", "sub-urls", "https://127.0.0.1:8080"));
    }

    @Test
    void idleHoldsEveryConnectionAndMeasuresTheServer() throws Exception {
        Result result = run("idle", "conns", "5", "hold", "0.3", "settle", "0.2");
        assertEquals(5.0, result.number("conns_open"));
        assertEquals(0.0, result.number("closed_during_hold"));
        assertTrue(result.values().containsKey("rss_per_conn_bytes"));
        assertTrue(result.values().containsKey("idle_cpu_us_per_conn_s"));
    }

    @Test
    void insertsAreAcknowledged() throws Exception {
        Result result = run("inserts", "conns", "4", "pipeline", "2", "duration", "0.5", "warmup", "0.2");
        assertTrue(result.number("inserts") > 0, "some inserts were acknowledged");
        assertEquals(0.0, result.number("failures"));
        assertTrue(result.number("inserts_per_s") > 0);
    }

    @Test
    void reconnectGetsTheSnapshotAndTheMissedEvents() throws Exception {
        Result result = run("reconnect", "subs", "5", "names", "20", "missed", "3", "timeout", "20");
        assertEquals(5.0, result.number("snapshot_complete"));
        assertEquals(5.0, result.number("resume_complete"));
        assertEquals(0.0, result.number("snapshot_extra_events"), "a snapshot has exactly one event per name");
        assertEquals(0.0, result.number("resume_extra_events"), "a resume replays exactly the missed events");
        assertTrue(Double.isFinite(result.number("snapshot_all_s")));
        assertTrue(Double.isFinite(result.number("resume_all_s")));
    }
}
