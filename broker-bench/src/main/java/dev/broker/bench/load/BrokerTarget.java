package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Broker: each scenario creates its own user and tenant through {@code POST /create_user} (with the admin token),
 * logs in for a JWT, subscribes on {@code GET /sse} and publishes with {@code POST /insert}, as any client would.
 */
final class BrokerTarget implements Target {

    private static final Pattern JWT = Pattern.compile("\"jwt\"\\s*:\\s*\"([^\"]+)\"");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final InetSocketAddress address;
    private final ClientTls tls;
    private final String adminToken;
    private final String auth;
    private final HttpClient http;

    BrokerTarget(InetSocketAddress address, ClientTls tls, String adminToken, String auth) {
        if (!auth.equals("bearer") && !auth.equals("basic")) {
            throw new IllegalArgumentException("--auth must be bearer or basic, not " + auth);
        }
        this.address = address;
        this.tls = tls;
        HttpClient.Builder http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            http.sslContext(tls.jdkContext());
        }
        this.http = http.build();
        this.adminToken = adminToken;
        this.auth = auth;
    }

    @Override
    public String name() {
        return "broker";
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public ClientTls tls() {
        return tls;
    }

    @Override
    public Stream newStream(String scenario) throws IOException, InterruptedException {
        byte[] secret = new byte[12];
        RANDOM.nextBytes(secret);
        String suffix = HexFormat.of().formatHex(secret, 0, 4);
        String username = "bench-" + scenario + "-" + suffix;
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        post("/create_user", "{\"username\":\"" + username + "\",\"password\":\"" + password
                + "\",\"admin_token\":" + jsonString(adminToken) + ",\"tenant_name\":\"" + username + "\"}");
        String credential;
        if (auth.equals("basic")) {
            credential = "Basic " + Base64.getEncoder().encodeToString(
                    (username + ":" + password).getBytes(StandardCharsets.UTF_8));
        } else {
            String login = post("/login", "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}");
            Matcher jwt = JWT.matcher(login);
            if (!jwt.find()) {
                throw new IOException("login answered without a jwt: " + login);
            }
            credential = "Bearer " + jwt.group(1);
        }
        String host = "Host: " + address.getHostString() + ":" + address.getPort() + "\r\n";
        byte[] subscribe = RequestBytes.ascii("GET /sse HTTP/1.1\r\n" + host + "Accept: text/event-stream\r\n"
                + "Authorization: " + credential + "\r\n");
        byte[] publish = RequestBytes.ascii("POST /insert HTTP/1.1\r\n" + host + "Authorization: " + credential
                + "\r\nContent-Type: application/json\r\n");
        return new Stream() {
            @Override
            public ByteBuf subscribeRequest(ByteBufAllocator alloc, String lastEventId) {
                return RequestBytes.get(alloc, subscribe, lastEventId);
            }

            @Override
            public ByteBuf publishRequest(ByteBufAllocator alloc, String event, byte[] json) {
                return RequestBytes.post(alloc, publish, RequestBytes.ascii("{\"event\":" + jsonString(event) + ",\"data\":"),
                        json, new byte[] {'}'});
            }

            /** {@code {"id":"<digits>","event":"<the event sent>","timestamp":…}}, as Broker writes it (compact). */
            @Override
            public long acknowledgedId(String event, String body) {
                int at = body.indexOf("\"id\":\"");
                if (at < 0 || !body.contains("\"event\":" + jsonString(event) + ",")) {
                    return -1;
                }
                long id = 0;
                int digits = 0;
                for (int i = at + 6; i < body.length() && body.charAt(i) >= '0' && body.charAt(i) <= '9'; i++, digits++) {
                    id = id * 10 + (body.charAt(i) - '0');
                }
                return digits == 0 || digits > 18 || at + 6 + digits >= body.length() || body.charAt(at + 6 + digits) != '"'
                        ? -1 : id;
            }
        };
    }

    private String post(String path, String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create((tls == null ? "http://" : "https://") + address.getHostString() + ":"
                        + address.getPort() + path))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(path + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    static String jsonString(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
