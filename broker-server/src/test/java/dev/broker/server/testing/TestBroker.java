package dev.broker.server.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.broker.server.BrokerServer;
import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.Flags;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * The real Broker server on an ephemeral port over a temporary RocksDB directory, plus the few HTTP calls most
 * tests need. Close it after each test.
 */
public final class TestBroker implements AutoCloseable {

    public static final String ADMIN_TOKEN = "test-admin-token";
    public static final String JWT_SECRET = "test-jwt-secret-of-at-least-32-bytes!";

    /** Streams per fan-out task in test servers (the production default is 1024). */
    public static final int FAN_OUT_CHUNK = 3;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BrokerConfig config;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private BrokerServer server;

    private TestBroker(BrokerConfig config) {
        this.config = config;
        this.server = BrokerServer.start(config);
    }

    /** Starts a server whose database lives in {@code dir}. */
    public static TestBroker start(Path dir) {
        return start(dir, UnaryOperator.identity());
    }

    /**
     * Starts a server whose database lives in {@code dir}, with the test configuration adjusted by {@code tweak}.
     * The test configuration cuts every SSE fan-out into tasks of {@value #FAN_OUT_CHUNK} streams: tests hold a
     * few streams, and so the ordering across tasks is exercised by every SSE test, not only at thousands.
     */
    public static TestBroker start(Path dir, UnaryOperator<BrokerConfig> tweak) {
        BrokerConfig config = BrokerConfig.defaults()
                .with(Flags.PORT, 0)
                .with(Flags.BIND, "127.0.0.1")
                .with(Flags.DB, dir.resolve("db"))
                .with(Flags.ADMIN_TOKEN, ADMIN_TOKEN)
                .with(Flags.JWT_SECRET, JWT_SECRET)
                .with(Flags.SSE_FAN_OUT_CHUNK, FAN_OUT_CHUNK);
        return new TestBroker(tweak.apply(config));
    }

    public BrokerConfig config() {
        return config;
    }

    public BrokerServer server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    /** Stops the server gracefully and starts it again on the same database (on a new port). */
    public void restart() {
        server.close();
        server = BrokerServer.start(config);
    }

    public HttpResult get(String pathAndQuery, String... headers) {
        return send(request(pathAndQuery, headers).GET().build());
    }

    public HttpResult post(String path, String body, String... headers) {
        return send(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build());
    }

    public HttpResult send(HttpRequest request) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new HttpResult(response.statusCode(), response.headers(), response.body());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpRequest.Builder request(String pathAndQuery, String... headers) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        return builder;
    }

    /** Creates a user through the API and returns its id; fails the test on any status but 200. */
    public String createUser(String username, String password, String tenant) {
        ObjectNode body = JSON.createObjectNode()
                .put("username", username)
                .put("password", password)
                .put("admin_token", ADMIN_TOKEN)
                .put("tenant_name", tenant);
        HttpResult result = post("/create_user", body.toString());
        if (result.status() != 200) {
            throw new AssertionError("create_user " + username + ": " + result.status() + " " + result.body());
        }
        return result.json().get("id").asText();
    }

    /** Logs in through the API and returns the JWT; fails the test on any status but 200. */
    public String login(String username, String password) {
        ObjectNode body = JSON.createObjectNode().put("username", username).put("password", password);
        HttpResult result = post("/login", body.toString());
        if (result.status() != 200) {
            throw new AssertionError("login " + username + ": " + result.status() + " " + result.body());
        }
        return result.json().get("jwt").asText();
    }

    /** Inserts an event with a Bearer token and returns the response; {@code dataJson} is raw JSON text. */
    public HttpResult insert(String jwt, String event, String dataJson) {
        String body = "{\"event\":" + JSON.valueToTree(event) + ",\"data\":" + dataJson + "}";
        return post("/insert", body, "Authorization", "Bearer " + jwt);
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
            server = null;
        }
    }
}
