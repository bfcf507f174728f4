package dev.broker.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashes in the PHC string format ({@code $argon2id$v=19$m=…,t=…,p=…$salt$hash}). Hashing is
 * deliberately slow, so it runs on the {@link HashWorkers} (or executor) given here, never an event loop; the futures
 * complete there.
 */
public final class PasswordHasher {

    /** OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane. */
    public static final int MEMORY_KIB = 19 * 1024;
    public static final int ITERATIONS = 2;
    public static final int PARALLELISM = 1;
    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;

    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64_DECODER = Base64.getDecoder();

    /** The hashing threads and their bounded lanes, or null when {@link #executor} runs everything unbounded. */
    private final HashWorkers workers;
    private final Executor executor;
    private final SecureRandom random = new SecureRandom();
    /** Verified against when a username is unknown, so that a miss costs the same time as a wrong password. */
    private final String decoyHash;

    /** Hashes on {@code workers}: a full lane fails the future with {@link HashingBusyException}. */
    public PasswordHasher(HashWorkers workers) {
        this(workers, null);
    }

    /** Hashes on {@code executor}, unbounded and in one lane (benchmarks, tests). */
    public PasswordHasher(Executor executor) {
        this(null, executor);
    }

    private PasswordHasher(HashWorkers workers, Executor executor) {
        this.workers = workers;
        this.executor = executor;
        this.decoyHash = hash("decoy password");
    }

    /** A new hash of {@code password} (creating a user), in the first lane. */
    public CompletableFuture<String> hashAsync(String password) {
        return run(HashLane.FIRST, () -> hash(password));
    }

    /** Verifies {@code password} against {@code encoded} in the first lane. */
    public CompletableFuture<Boolean> verifyAsync(String password, String encoded) {
        return verifyAsync(password, encoded, HashLane.FIRST);
    }

    /**
     * Verifies {@code password} against {@code encoded}, waiting in {@code lane}; with a null hash, spends the same
     * time and says no.
     */
    public CompletableFuture<Boolean> verifyAsync(String password, String encoded, HashLane lane) {
        return run(lane, () -> {
            if (encoded == null) {
                verify(password, decoyHash);
                return false;
            }
            return verify(password, encoded);
        });
    }

    private <T> CompletableFuture<T> run(HashLane lane, Supplier<T> work) {
        return workers != null ? workers.submit(lane, work) : CompletableFuture.supplyAsync(work, executor);
    }

    public String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        byte[] hash = derive(password, salt, MEMORY_KIB, ITERATIONS, PARALLELISM, HASH_BYTES);
        return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM
                + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(hash);
    }

    /** Whether {@code password} matches the PHC-encoded hash; a malformed hash never matches. */
    public boolean verify(String password, String encoded) {
        String[] parts = encoded.split("\\$");
        // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
        if (parts.length != 6 || !"argon2id".equals(parts[1]) || !"v=19".equals(parts[2])) {
            return false;
        }
        try {
            int memory = 0;
            int iterations = 0;
            int parallelism = 0;
            for (String param : parts[3].split(",")) {
                int value = Integer.parseInt(param.substring(2));
                switch (param.substring(0, 2)) {
                    case "m=" -> memory = value;
                    case "t=" -> iterations = value;
                    case "p=" -> parallelism = value;
                    default -> {
                        return false;
                    }
                }
            }
            byte[] salt = B64_DECODER.decode(parts[4]);
            byte[] expected = B64_DECODER.decode(parts[5]);
            byte[] actual = derive(password, salt, memory, iterations, parallelism, expected.length);
            return MessageDigest.isEqual(expected, actual);
        } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
            return false;
        }
    }

    private static byte[] derive(String password, byte[] salt, int memoryKib, int iterations, int parallelism, int length) {
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(memoryKib)
                .withIterations(iterations)
                .withParallelism(parallelism)
                .withSalt(salt)
                .build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(params);
        byte[] out = new byte[length];
        generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }
}
