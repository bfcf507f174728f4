package dev.broker.server.http;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --request_timeout}: a request must arrive whole within the deadline from its first byte, however its bytes
 * trickle in (slowloris); past it, a 408 and a close. Time between requests, and an SSE stream once answered, are not
 * under the deadline. The deadline here is one second.
 */
@Timeout(60)
class RequestDeadlineTest {

    private static final int DEADLINE_SECONDS = 1;
    private static final long TRICKLE_MILLIS = 300;

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = brokers.start(c -> c.with(Flags.REQUEST_TIMEOUT, DEADLINE_SECONDS));
    }

    /** Sends {@code text} one byte every {@link #TRICKLE_MILLIS} on its own thread until done, stopped or refused. */
    private static Thread trickle(RawHttp raw, String text, AtomicBoolean stop) {
        Thread thread = new Thread(() -> {
            for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
                if (stop.get()) {
                    return;
                }
                raw.sendTolerantly(new byte[] {b});
                try {
                    Thread.sleep(TRICKLE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "slowloris");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** At one byte per {@link #TRICKLE_MILLIS}, the request would take far longer than the deadline to arrive. */
    private static void assertFarSlowerThanTheDeadline(String request) {
        assertTrue(request.length() * TRICKLE_MILLIS > 5_000L * DEADLINE_SECONDS, "a slow enough request");
    }

    @Test
    void aRequestHeadTrickledByteByByteIsCutOffAtTheDeadline() throws Exception {
        String request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + "z".repeat(20) + "\r\n\r\n";
        assertFarSlowerThanTheDeadline(request);
        AtomicBoolean stop = new AtomicBoolean();
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            long start = System.nanoTime();
            Thread slowloris = trickle(raw, request, stop);

            RawHttp.Response response = raw.readResponse();
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertError(408, response.toResult(), "slow request head");
            assertEquals("close", response.header("connection"));
            assertTrue(millis >= DEADLINE_SECONDS * 1000L - 100 && millis < DEADLINE_SECONDS * 1000L + 1_500,
                    "cut off after " + millis + " ms, deadline " + DEADLINE_SECONDS + " s");
            assertTrue(raw.closesWithin(Duration.ofSeconds(5)), "closed after the 408");
            stop.set(true);
            slowloris.join();
        }
    }

    @Test
    void aRequestBodyTrickledByteByByteIsCutOffAtTheDeadline() throws Exception {
        String body = "{\"username\":\"slow\",\"password\":\"" + "z".repeat(30) + "\"}";
        AtomicBoolean stop = new AtomicBoolean();
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            raw.send("POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + body.length() + "\r\n\r\n");
            long start = System.nanoTime();
            Thread slowloris = trickle(raw, body, stop);

            RawHttp.Response response = raw.readResponse();
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertError(408, response.toResult(), "slow request body");
            assertTrue(millis < DEADLINE_SECONDS * 1000L + 1_500, "cut off after " + millis + " ms");
            assertTrue(raw.closesWithin(Duration.ofSeconds(5)), "closed after the 408");
            stop.set(true);
            slowloris.join();
        }
    }

    @Test
    void timeBetweenRequestsIsNotUnderTheDeadline() throws Exception {
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            String get = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
            assertEquals(200, raw.send(get).readResponse().status());
            Thread.sleep(DEADLINE_SECONDS * 1000L + 700);
            assertEquals(200, raw.send(get).readResponse().status(), "a keep-alive connection idle past the deadline");
            // A request sent in two parts well within the deadline is whole in time.
            raw.send("GET /healthz HTTP/1.1\r\n");
            Thread.sleep(300);
            assertEquals(200, raw.send("Host: localhost\r\n\r\n").readResponse().status());
        }
    }

    @Test
    void anOpenStreamOutlivesTheDeadline() throws Exception {
        SseTestSupport.User user = SseTestSupport.newUser(broker, "acme");
        try (SseClient stream = SseTestSupport.subscribe(broker, user, "")) {
            assertEquals(200, stream.status());
            Thread.sleep(DEADLINE_SECONDS * 1000L + 1_000);
            assertFalse(stream.isClosed(), "the stream was closed");
            long id = SseTestSupport.insert(broker, user, "late", "1");
            assertEquals(id, stream.next(SseTestSupport.PROMPTLY).idAsLong());
        }
    }
}
