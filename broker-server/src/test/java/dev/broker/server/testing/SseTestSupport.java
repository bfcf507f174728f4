package dev.broker.server.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;

/** Small shared steps of the SSE, durability and client tests: users, inserts, expected frames. */
public final class SseTestSupport {

    /** How long a test waits for something that should happen at once. */
    public static final Duration PROMPTLY = Duration.ofSeconds(10);

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private SseTestSupport() {
    }

    /** A user created through the API, with a JWT from {@code /login}. */
    public record User(String username, String password, String tenant, String jwt) {

        /** {@code Authorization} header pair with the JWT. */
        public String[] bearer() {
            return new String[] {"Authorization", "Bearer " + jwt};
        }

        /** {@code Authorization} header pair with HTTP Basic credentials. */
        public String[] basic() {
            String credentials = username + ":" + password;
            return new String[] {"Authorization",
                "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8))};
        }
    }

    /** Creates a user with a unique name in {@code tenant} and logs it in (two Argon2 runs: reuse users). */
    public static User newUser(TestBroker broker, String tenant) {
        String username = "user" + SEQUENCE.incrementAndGet() + "-" + tenant;
        String password = "pw-" + username;
        broker.createUser(username, password, tenant);
        return new User(username, password, tenant, broker.login(username, password));
    }

    /** Inserts and returns the new id; fails the test on any status but 200. */
    public static long insert(TestBroker broker, User user, String event, String dataJson) {
        HttpResult result = broker.insert(user.jwt(), event, dataJson);
        if (result.status() != 200) {
            throw new AssertionError("insert " + event + ": " + result.status() + " " + result.body());
        }
        return Long.parseLong(result.json().get("id").asText());
    }

    /** Opens {@code /sse} (plus {@code query}, e.g. {@code "?last_event_id=3"}) with the user's Bearer token. */
    public static SseClient subscribe(TestBroker broker, User user, String query, String... extraHeaders) {
        String[] headers = new String[2 + extraHeaders.length];
        System.arraycopy(user.bearer(), 0, headers, 0, 2);
        System.arraycopy(extraHeaders, 0, headers, 2, extraHeaders.length);
        SseClient client = SseClient.connect(broker.port(), "/sse" + query, headers);
        if (client.status() != 200) {
            client.close();
            throw new AssertionError("GET /sse" + query + ": " + client.status() + " " + client.body());
        }
        return client;
    }

    /** The exact bytes the contract prescribes for one event. */
    public static String frame(long id, String event, String compactData) {
        return "id:" + id + "\nevent:" + event + "\ndata:" + compactData + "\n\n";
    }
}
