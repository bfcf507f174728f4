package dev.broker.bench.fill;

import dev.broker.server.auth.PasswordHasher;
import dev.broker.storage.EventLog;
import dev.broker.storage.StorageOverloadedException;
import dev.broker.storage.User;
import dev.broker.storage.UserStore;
import dev.broker.storage.rocksdb.RocksStorage;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code java -jar broker-bench.jar fill --db DIR --users N --events N --tenants N}: fills a database through the
 * storage API, for the measurements of a large database. Users are {@code user<i>} in tenant {@code tenant<i % T>},
 * all with the password {@code password} (hashed once: Argon2 for a million users would take hours). Events fill
 * the tenants one after the other ({@code tenant0} first, events / tenants each, so that a fill stopped early still
 * has whole tenants), each tenant's spread over {@code --names} names, with {@code --size} bytes of JSON of random
 * letters (so that compression does not flatter the disk figures).
 * Appends are kept {@code --in-flight} at a time, so that the store group-commits them in big batches.
 */
public final class FillDatabase {

    public static final String USAGE = """
            usage: java -jar broker-bench.jar fill --db DIR [--users 1000000] [--events 10000000] [--tenants 10]
                   [--names 1000] [--size 100] [--in-flight 8192]
            Users are user<i> in tenant<i % tenants>, password "password"; events fill tenant0, then tenant1, ...
            """;

    private static final int USER_WINDOW = 256;

    private FillDatabase() {
    }

    public static void run(String[] args, PrintStream out) throws Exception {
        Path db = null;
        long users = 1_000_000;
        long events = 10_000_000;
        int tenants = 10;
        int names = 1000;
        int size = 100;
        int inFlight = 8192;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("flag " + flag + " needs a value\n" + USAGE);
            }
            String value = args[++i];
            switch (flag) {
                case "--db" -> db = Path.of(value);
                case "--users" -> users = Long.parseLong(value);
                case "--events" -> events = Long.parseLong(value);
                case "--tenants" -> tenants = Integer.parseInt(value);
                case "--names" -> names = Integer.parseInt(value);
                case "--size" -> size = Integer.parseInt(value);
                case "--in-flight" -> inFlight = Integer.parseInt(value);
                default -> throw new IllegalArgumentException("unknown flag " + flag + "\n" + USAGE);
            }
        }
        if (db == null) {
            throw new IllegalArgumentException("--db is required\n" + USAGE);
        }
        try (RocksStorage storage = RocksStorage.open(db)) {
            long started = System.nanoTime();
            fillUsers(storage.users(), users, tenants, out);
            out.printf(Locale.ROOT, "users: %d in %.1f s%n", users, seconds(started));
            started = System.nanoTime();
            fillEvents(storage.events(), events, tenants, names, size, inFlight, out);
            out.printf(Locale.ROOT, "events: %d in %.1f s (%.0f/s)%n", events, seconds(started),
                    events / seconds(started));
        }
    }

    private static void fillUsers(UserStore store, long count, int tenants, PrintStream out) throws Exception {
        String hash = new PasswordHasher(ForkJoinPool.commonPool()).hash("password");
        Semaphore window = new Semaphore(USER_WINDOW);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (long i = 0; i < count && failed.get() == null; i++) {
            window.acquire();
            User user = new User(UUID.randomUUID().toString(), "user" + i, "tenant" + (i % tenants), hash, false);
            store.create(user).whenComplete((created, failure) -> {
                if (failure != null) {
                    failed.compareAndSet(null, failure);
                }
                window.release();
            });
            if (i % 100_000 == 0) {
                out.println("users: " + i);
            }
        }
        window.acquire(USER_WINDOW);
        if (failed.get() != null) {
            throw new IllegalStateException("creating users failed", failed.get());
        }
    }

    private static void fillEvents(EventLog log, long count, int tenants, int names, int size, int inFlight,
                                   PrintStream out) throws Exception {
        long perTenant = (count + tenants - 1) / tenants;
        Semaphore window = new Semaphore(inFlight);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        long reported = System.nanoTime();
        for (long i = 0; i < count && failed.get() == null; i++) {
            window.acquire();
            String tenant = "tenant" + (i / perTenant);
            String name = "n" + (i % names);
            append(log, tenant, name, payload(size), window, failed);
            if (System.nanoTime() - reported > 10_000_000_000L) {
                reported = System.nanoTime();
                out.println("events: " + i);
            }
        }
        window.acquire(inFlight);
        if (failed.get() != null) {
            throw new IllegalStateException("appending failed", failed.get());
        }
    }

    /** One append; a full queue (the writer is behind) is retried, any other failure stops the fill. */
    private static void append(EventLog log, String tenant, String name, byte[] data, Semaphore window,
                               AtomicReference<Throwable> failed) {
        CompletableFuture<?> appended = log.append(tenant, name, data);
        appended.whenComplete((event, failure) -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof StorageOverloadedException) {
                append(log, tenant, name, data, window, failed);
                return;
            }
            if (cause != null) {
                failed.compareAndSet(null, cause);
            }
            window.release();
        });
    }

    private static byte[] payload(int size) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        StringBuilder json = new StringBuilder(size).append("{\"v\":\"");
        while (json.length() < size - 2) {
            json.append((char) ('a' + random.nextInt(26)));
        }
        return json.append("\"}").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
