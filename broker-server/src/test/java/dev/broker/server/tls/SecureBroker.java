package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.BrokerServer;
import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.HttpResult;
import dev.broker.server.testing.TestBroker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** A {@code --secure} Broker on an ephemeral port and the HTTPS calls the TLS tests need. */
final class SecureBroker implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BrokerConfig config;
    private final SSLContext trust;
    private final HttpClient http1;
    private final HttpClient http2;
    private BrokerServer server;

    SecureBroker(Path dir, SSLContext trust, UnaryOperator<BrokerConfig> tweak) {
        this.config = tweak.apply(BrokerConfig.defaults()
                .with(Flags.PORT, 0)
                .with(Flags.BIND, "127.0.0.1")
                .with(Flags.DB, dir.resolve("db"))
                .with(Flags.CERTS, dir.resolve("certs"))
                .with(Flags.SECURE, true)
                .with(Flags.HTTP_PORT, Flags.HTTP_PORT_OFF)
                .with(Flags.HEARTBEAT, 0)
                .with(Flags.ADMIN_TOKEN, TestBroker.ADMIN_TOKEN)
                .with(Flags.JWT_SECRET, TestBroker.JWT_SECRET));
        this.trust = trust;
        this.http1 = client(HttpClient.Version.HTTP_1_1);
        this.http2 = client(HttpClient.Version.HTTP_2);
        this.server = BrokerServer.start(config);
    }

    HttpClient client(HttpClient.Version version) {
        return HttpClient.newBuilder().version(version).sslContext(trust).connectTimeout(Duration.ofSeconds(5)).build();
    }

    BrokerServer server() {
        return server;
    }

    BrokerConfig config() {
        return config;
    }

    int port() {
        return server.port();
    }

    HttpClient http2() {
        return http2;
    }

    URI uri(String pathAndQuery) {
        return URI.create("https://localhost:" + port() + pathAndQuery);
    }

    void restart() {
        server.close();
        server = BrokerServer.start(config);
    }

    HttpResponse<String> send(HttpClient client, HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> post(HttpClient client, String path, String body, String... headers) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        return send(client, builder.build());
    }

    /** Creates a user and returns a JWT for it (over HTTP/1.1). */
    String userToken(String username, String tenant) {
        String create = JSON.createObjectNode().put("username", username).put("password", "pw-" + username)
                .put("admin_token", TestBroker.ADMIN_TOKEN).put("tenant_name", tenant).toString();
        HttpResponse<String> created = post(http1, "/create_user", create);
        assertEquals(200, created.statusCode(), created.body());
        String login = JSON.createObjectNode().put("username", username).put("password", "pw-" + username).toString();
        HttpResponse<String> jwt = post(http1, "/login", login);
        assertEquals(200, jwt.statusCode(), jwt.body());
        return new HttpResult(jwt.statusCode(), jwt.headers(), jwt.body()).json().get("jwt").asText();
    }

    /** Inserts over the given client; returns the id. */
    String insert(HttpClient client, String jwt, String event, String dataJson) {
        HttpResponse<String> response = post(client, "/insert", "{\"event\":\"" + event + "\",\"data\":" + dataJson + "}",
                "Authorization", "Bearer " + jwt);
        assertEquals(200, response.statusCode(), response.body());
        return new HttpResult(200, response.headers(), response.body()).json().get("id").asText();
    }

    /** Opens {@code GET /sse} on the client; lines arrive in the returned stream. */
    SseLines sse(HttpClient client, String jwt) {
        try {
            HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(uri("/sse"))
                    .header("Authorization", "Bearer " + jwt).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            return new SseLines(response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The leaf certificate the server presents to a new handshake for {@code host} (SNI and hostname check). */
    X509Certificate presentedLeaf(String host) throws IOException {
        try (SSLSocket socket = tlsSocket(host)) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    /** A TLS socket to the server on 127.0.0.1 that verifies the certificate for {@code host}. */
    SSLSocket tlsSocket(String host) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", port()), 5000);
        plain.setSoTimeout(10_000);
        SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket(plain, host, port(), true);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        return socket;
    }

    /**
     * One HTTP/1.1 exchange over a raw TLS socket that verifies the certificate for {@code host} (so a test
     * certificate for a name that does not resolve can be checked): returns the whole response.
     */
    String raw(String host, String method, String path, String body, String... headers) throws IOException {
        try (SSLSocket socket = tlsSocket(host)) {
            socket.getOutputStream().write(request(host, method, path, body, headers));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** {@code GET /sse} over a raw TLS socket for {@code host}. */
    SseLines rawSse(String host, String jwt) throws IOException {
        SSLSocket socket = tlsSocket(host);
        socket.setSoTimeout(0);
        socket.getOutputStream().write(request(host, "GET", "/sse", null, "Authorization", "Bearer " + jwt));
        return new SseLines(socket.getInputStream());
    }

    private byte[] request(String host, String method, String path, String body, String... headers) {
        StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host)
                .append("\r\nConnection: close\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (body != null) {
            b.append("Content-Length: ").append(content.length).append("\r\n");
        }
        b.append("\r\n");
        byte[] head = b.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] all = java.util.Arrays.copyOf(head, head.length + content.length);
        System.arraycopy(content, 0, all, head.length, content.length);
        return all;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** The lines of an open SSE response, read on a daemon thread. */
    static final class SseLines implements AutoCloseable {

        final HttpResponse<InputStream> response;
        private final InputStream body;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private volatile boolean ended;

        SseLines(HttpResponse<InputStream> response) {
            this(response, response.body());
        }

        /** Over a raw socket: {@code body} starts with the response head. */
        SseLines(InputStream body) {
            this(null, body);
        }

        private SseLines(HttpResponse<InputStream> response, InputStream body) {
            this.response = response;
            this.body = body;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // closed
                } finally {
                    ended = true;
                    lines.add("<end>");
                }
            }, "sse-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits for the line {@code id:<id>}; fails after the timeout or at the end of the stream. */
        void awaitId(String id, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) {
                    throw new AssertionError("no id:" + id + " within " + timeout);
                }
                if (line.equals("<end>")) {
                    throw new AssertionError("the stream ended before id:" + id);
                }
                if (line.equals("id:" + id)) {
                    return;
                }
            }
        }

        boolean ended() {
            return ended;
        }

        @Override
        public void close() throws IOException {
            body.close();
        }
    }
}
