package dev.broker.bench.jmh;

import dev.broker.server.auth.Authenticator;
import dev.broker.server.auth.BasicCredentialCache;
import dev.broker.server.auth.JwtTokens;
import dev.broker.server.auth.PasswordHasher;
import dev.broker.server.auth.Principal;
import dev.broker.server.auth.UserDirectory;
import dev.broker.storage.User;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Authenticating one request: a Bearer JWT ({@link JwtTokens#verify}, HS256 with jose4j) alone and through the
 * {@link Authenticator}, and HTTP Basic served from the {@link BasicCredentialCache} (a SHA-256 of the header and a
 * map lookup; the one Argon2id verification happened in set-up).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AuthBench {

    private static final String SECRET = "bench-jwt-secret-of-at-least-32-bytes!!";

    private ExecutorService hashing;
    private JwtTokens tokens;
    private Authenticator authenticator;
    private String jwt;
    private String bearerHeader;
    private String basicHeader;

    @Setup
    public void setUp() {
        hashing = Executors.newSingleThreadExecutor();
        PasswordHasher hasher = new PasswordHasher(hashing);
        tokens = new JwtTokens(SECRET, 3600);
        // Every user is in the cache, as on a server whose users fit --user_cache; the store knows no one else.
        UserDirectory users = new UserDirectory(username -> CompletableFuture.completedFuture(Optional.empty()), 1000);
        users.put(new User("00000000-0000-0000-0000-000000000001", "ada", "acme", hasher.hash("s3cret"), false));
        authenticator = new Authenticator(tokens, users, hasher, new BasicCredentialCache());
        jwt = tokens.issue("ada", "acme");
        bearerHeader = "Bearer " + jwt;
        basicHeader = "Basic " + Base64.getEncoder().encodeToString("ada:s3cret".getBytes(StandardCharsets.UTF_8));
        // The first Basic request pays for Argon2id and fills the cache; the benchmark measures the ones after.
        authenticator.authenticate(basicHeader, null).join();
    }

    @TearDown
    public void tearDown() {
        hashing.shutdownNow();
    }

    @Benchmark
    public String jwtVerify() {
        return tokens.verify(jwt);
    }

    @Benchmark
    public Principal bearerRequest() {
        return authenticator.authenticate(bearerHeader, null).join();
    }

    @Benchmark
    public Principal basicRequestCached() {
        return authenticator.authenticate(basicHeader, null).join();
    }
}
