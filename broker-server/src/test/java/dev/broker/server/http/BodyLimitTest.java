package dev.broker.server.http;

import static dev.broker.server.testing.HttpAssertions.assertError;
import static dev.broker.server.testing.HttpAssertions.assertOkObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.RawHttp;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Request bodies over the limit (1 MiB by default) are a 413 with the JSON error body; the server carries on. */
@Timeout(60) // a client stuck on a server that neither answers nor closes fails instead of hanging the build
class BodyLimitTest {

    private static final int MIB = 1024 * 1024;
    private static final int UPLOADS = 30;

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    private TestBroker broker;

    /** An insert body of exactly {@code size} bytes: {"event":"e","data":"xxx…"}. */
    private static String insertBodyOfSize(int size) {
        String prefix = "{\"event\":\"e\",\"data\":\"";
        String suffix = "\"}";
        return prefix + "x".repeat(size - prefix.length() - suffix.length()) + suffix;
    }

    private String startWithUser(TestBroker started) {
        broker = started;
        broker.createUser("alice", "s3cret", "acme");
        return broker.login("alice", "s3cret");
    }

    @Test
    void aBodyOverOneMebibyteIs413WithAJsonError() {
        broker = brokers.start();

        try (RawHttp raw = RawHttp.connect(broker.port())) {
            // Only the head is sent: the verdict comes from Content-Length, whatever the server does with the rest
            // of a body (the next test's business).
            RawHttp.Response response = raw.send("POST /create_user HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: " + (MIB + 1) + "\r\n\r\n").readResponse();

            assertError(413, response.toResult());
            assertEquals("*", response.header("Access-Control-Allow-Origin"));
            assertTrue(response.header("Content-Type").startsWith("application/json"));
        }
    }

    @Test
    void everyOversizedUploadGetsTheResponseNotAConnectionReset() {
        // The server refuses while the client is still sending. If it then closes with the rest of the body
        // unread, the kernel resets the connection and the client may never see the 413: it has to drain or
        // half-close first. A reset is a matter of timing, so one upload proves little; this many make the
        // test fail reliably when the server resets (about one upload in ten, measured) and pass when it does not.
        broker = brokers.start();
        HttpRequest upload = broker.request("/list_users")
                .POST(HttpRequest.BodyPublishers.ofString(insertBodyOfSize(MIB + 1), StandardCharsets.US_ASCII)).build();
        List<String> outcomes = new ArrayList<>();

        for (int i = 0; i < UPLOADS; i++) {
            try {
                outcomes.add(Integer.toString(broker.send(upload).status()));
            } catch (UncheckedIOException e) {
                outcomes.add(e.getCause().toString());
            }
        }

        assertEquals(Collections.nCopies(UPLOADS, "413"), outcomes);
    }

    @Test
    void aBodyOfExactlyTheLimitIsAcceptedAndOneByteMoreIs413() {
        String jwt = startWithUser(brokers.start(c -> c.with(Flags.MAX_BODY, 1024)));

        assertOkObject(broker.post("/insert", insertBodyOfSize(1024), "Authorization", "Bearer " + jwt));
        assertError(413, broker.post("/insert", insertBodyOfSize(1025), "Authorization", "Bearer " + jwt));
    }

    @Test
    void aConfiguredLimitIsEnforcedFromTheAnnouncedLengthAndTheConnectionClosed() {
        broker = brokers.start(c -> c.with(Flags.MAX_BODY, 1024));

        try (RawHttp raw = RawHttp.connect(broker.port())) {
            RawHttp.Response response = raw.send("POST /create_user HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1025\r\n\r\n").readResponse();

            assertError(413, response.toResult());
            assertTrue(raw.closesWithin(Duration.ofSeconds(5)), "the connection is closed after a 413");
        }
    }

    @Test
    void anExpectContinueRequestOverTheLimitGetsTheJson413() {
        broker = brokers.start(c -> c.with(Flags.MAX_BODY, 1024));

        try (RawHttp raw = RawHttp.connect(broker.port())) {
            RawHttp.Response response = raw.send("POST /login HTTP/1.1\r\nHost: localhost\r\n"
                    + "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n").readResponse();

            assertError(413, response.toResult());
            assertEquals("*", response.header("Access-Control-Allow-Origin"));
        }
    }

    @Test
    void aChunkedBodyThatGrowsPastTheLimitIs413() {
        broker = brokers.start(c -> c.with(Flags.MAX_BODY, 1024));
        String chunk = "x".repeat(600);

        try (RawHttp raw = RawHttp.connect(broker.port())) {
            raw.send("POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
            raw.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            raw.sendTolerantly((Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = raw.readResponse();

            assertError(413, response.toResult());
        }
    }

    @Test
    void theServerKeepsServingAfterA413() {
        String jwt = startWithUser(brokers.start(c -> c.with(Flags.MAX_BODY, 1024)));
        assertError(413, broker.post("/insert", insertBodyOfSize(4096), "Authorization", "Bearer " + jwt));
        try (RawHttp raw = RawHttp.connect(broker.port())) {
            assertError(413, raw.send("POST /insert HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n")
                    .readResponse().toResult());
        }

        assertEquals(200, broker.get("/healthz").status());
        assertOkObject(broker.post("/insert", insertBodyOfSize(200), "Authorization", "Bearer " + jwt));
    }

    @Test
    void anExpectContinueRequestWithinTheLimitGets100ThenTheResponse() {
        broker = brokers.start(c -> c.with(Flags.MAX_BODY, 1024));
        // A page of list_users: its answer has a Content-Length (the whole list would be streamed, chunked).
        String body = "{\"admin_token\":\"" + TestBroker.ADMIN_TOKEN + "\",\"limit\":10}";

        try (RawHttp raw = RawHttp.connect(broker.port())) {
            RawHttp.Response interim = raw.send("POST /list_users HTTP/1.1\r\nHost: localhost\r\n"
                    + "Expect: 100-continue\r\nContent-Length: " + body.length() + "\r\n\r\n").readHead();
            assertEquals(100, interim.status(), interim.statusLine());

            RawHttp.Response response = raw.send(body).readResponse();

            assertEquals(200, response.status(), response.bodyText());
            assertEquals("[]", response.bodyText());
        }
    }
}
