package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Connection caps: a flood of idle connections past {@code --max_connections} (or past
 * {@code --max_connections_per_ip} from one address) is refused at once with a 503, while clients already connected,
 * and new ones from other addresses, are served promptly. The flood comes from 127.0.0.2 (all of 127/8 is this
 * machine), the legitimate client from 127.0.0.1. 300 sockets: far below the test process's open-files limit.
 */
@Timeout(60)
class ConnectionLimitsTest {

    private static final int CAP = 200;
    private static final int FLOOD = 300;
    /** "Promptly": a generous bound for one request on loopback; before the caps, the server was not answering. */
    private static final long PROMPT_MILLIS = 1_000;

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private final List<Socket> flood = new ArrayList<>();

    @AfterEach
    void closeFlood() throws IOException {
        for (Socket socket : flood) {
            socket.close();
        }
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    /** Opens {@link #FLOOD} idle connections from 127.0.0.2, then waits until every refusal has arrived. */
    private void flood(int port, int expectedRefusals) throws Exception {
        for (int i = 0; i < FLOOD; i++) {
            Socket socket = new Socket();
            socket.bind(new InetSocketAddress("127.0.0.2", 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            flood.add(socket);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (refused() < expectedRefusals && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** Flood connections the server answered (it only ever answers them with the refusal). */
    private int refused() throws IOException {
        int refused = 0;
        for (Socket socket : flood) {
            if (socket.getInputStream().available() > 0) {
                refused++;
            }
        }
        return refused;
    }

    private static String readAll(Socket socket) {
        try {
            socket.setSoTimeout(5_000);
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long healthzMillis(RawHttp client) {
        long start = System.nanoTime();
        RawHttp.Response response = client.send(get("/healthz")).readResponse();
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, response.status(), response.statusLine());
        return millis;
    }

    @Test
    void connectionsPastTheCapAreRefusedWhileAnOpenConnectionIsServed() throws Exception {
        TestBroker broker = brokers.start(c -> c.with(Flags.MAX_CONNECTIONS, CAP).with(Flags.MAX_CONNECTIONS_PER_IP, 0));
        try (RawHttp legitimate = RawHttp.connect(broker.port())) {
            healthzMillis(legitimate);

            flood(broker.port(), FLOOD - (CAP - 1));

            assertEquals(FLOOD - (CAP - 1), refused(), "connections refused past the cap of " + CAP);
            long millis = healthzMillis(legitimate);
            assertTrue(millis < PROMPT_MILLIS, "GET /healthz took " + millis + " ms during the flood");
            String refusal = readAll(flood.stream().filter(this::answered).findFirst().orElseThrow());
            assertTrue(refusal.startsWith("HTTP/1.1 503 "), refusal);
            assertTrue(refusal.contains("\r\nRetry-After: 1\r\n"), refusal);
            assertTrue(refusal.endsWith("{\"error\":\"too many connections\"}"), refusal);
        }

        closeFlood();
        // Places free as the server sees the closes; a new client gets in once they have.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try (RawHttp fresh = RawHttp.connect(broker.port())) {
                RawHttp.Response response = fresh.send(get("/healthz")).readResponse();
                if (response.status() == 200 || System.nanoTime() > deadline) {
                    assertEquals(200, response.status(), "after the flood left: " + response.statusLine());
                    break;
                }
            }
            Thread.sleep(50);
        }
    }

    @Test
    void oneAddressPastItsCapIsRefusedWhileOtherAddressesAreServed() throws Exception {
        int perIp = 100;
        TestBroker broker = brokers.start(c -> c.with(Flags.MAX_CONNECTIONS, 1_000)
                .with(Flags.MAX_CONNECTIONS_PER_IP, perIp));

        flood(broker.port(), FLOOD - perIp);

        assertEquals(FLOOD - perIp, refused(), "connections from 127.0.0.2 refused past its cap of " + perIp);
        try (RawHttp legitimate = RawHttp.connect(broker.port())) {
            long millis = healthzMillis(legitimate);
            assertTrue(millis < PROMPT_MILLIS, "GET /healthz from 127.0.0.1 took " + millis + " ms during the flood");
        }
    }

    private boolean answered(Socket socket) {
        try {
            return socket.getInputStream().available() > 0;
        } catch (IOException e) {
            return false;
        }
    }
}
