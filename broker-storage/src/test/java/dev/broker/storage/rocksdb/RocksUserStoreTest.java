package dev.broker.storage.rocksdb;

import static dev.broker.storage.rocksdb.StorageTesting.await;
import static dev.broker.storage.rocksdb.StorageTesting.awaitLatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.broker.storage.User;
import dev.broker.storage.UserStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class RocksUserStoreTest {

    @TempDir
    Path dir;

    private RocksStorage storage;
    private UserStore users;

    @BeforeEach
    void openStorage() {
        storage = RocksStorage.open(dir);
        users = storage.users();
    }

    @AfterEach
    void closeStorage() {
        storage.close();
    }

    private static User user(String id, String username, String tenant) {
        return new User(id, username, tenant, "$argon2id$v=19$m=65536,t=3,p=1$" + id, false);
    }

    @Test
    void createStoresTheUserAndFindReturnsIt() throws Exception {
        User alice = user("u-1", "alice", "acme");

        assertTrue(await(users.create(alice)));

        assertEquals(Optional.of(alice), await(users.find("alice")));
        assertEquals(Optional.empty(), await(users.find("alicia")));
    }

    @Test
    void createRejectsDuplicateUsername() throws Exception {
        User original = user("u-1", "alice", "acme");
        assertTrue(await(users.create(original)));

        assertFalse(await(users.create(user("u-2", "alice", "globex"))));

        assertEquals(Optional.of(original), await(users.find("alice")));
        assertEquals(List.of(original), await(users.list()));
    }

    @Test
    void concurrentCreatesOfSameUsernameAdmitOne() throws Exception {
        int contenders = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService callers = Executors.newFixedThreadPool(contenders);
        List<Future<CompletableFuture<Boolean>>> attempts = new ArrayList<>();
        try {
            for (int i = 0; i < contenders; i++) {
                User contender = user("u-" + i, "alice", "tenant-" + i);
                attempts.add(callers.submit(() -> {
                    awaitLatch(start);
                    return users.create(contender);
                }));
            }
            start.countDown();
            List<Integer> winners = new ArrayList<>();
            for (int i = 0; i < contenders; i++) {
                if (await(attempts.get(i).get(StorageTesting.TIMEOUT_SECONDS, TimeUnit.SECONDS))) {
                    winners.add(i);
                }
            }

            assertEquals(1, winners.size(), "winners: " + winners);
            int winner = winners.get(0);
            assertEquals(Optional.of(user("u-" + winner, "alice", "tenant-" + winner)), await(users.find("alice")));
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void setRevokedIsIdempotentAndUnknownUserIsEmpty() throws Exception {
        User alice = user("u-1", "alice", "acme");
        await(users.create(alice));

        assertEquals(Optional.of(alice.withRevoked(true)), await(users.setRevoked("alice", true)));
        assertEquals(Optional.of(alice.withRevoked(true)), await(users.setRevoked("alice", true)));
        assertEquals(Optional.of(alice.withRevoked(true)), await(users.find("alice")));
        assertEquals(Optional.of(alice), await(users.setRevoked("alice", false)));
        assertEquals(Optional.of(alice), await(users.find("alice")));
        assertEquals(Optional.empty(), await(users.setRevoked("nobody", true)));
        assertEquals(Optional.empty(), await(users.find("nobody")));
    }

    @Test
    void listIsOrderedByUsername() throws Exception {
        for (String username : List.of("carol", "alice2", "bob", "alice")) {
            await(users.create(user("id-" + username, username, "acme")));
        }

        List<String> usernames = await(users.list()).stream().map(User::username).collect(Collectors.toList());

        assertEquals(List.of("alice", "alice2", "bob", "carol"), usernames);
    }

    @Test
    void listOfAnEmptyStoreIsEmpty() throws Exception {
        assertEquals(List.of(), await(users.list()));
    }

    @Test
    void pagesFollowOneAnotherWithoutGapOrOverlap() throws Exception {
        for (String username : List.of("carol", "alice2", "bob", "alice", "dave")) {
            await(users.create(user("id-" + username, username, "acme")));
        }

        List<String> first = await(users.list(null, 2)).stream().map(User::username).collect(Collectors.toList());
        List<String> second = await(users.list("alice2", 2)).stream().map(User::username).collect(Collectors.toList());
        List<String> last = await(users.list("carol", 2)).stream().map(User::username).collect(Collectors.toList());

        assertEquals(List.of("alice", "alice2"), first);
        assertEquals(List.of("bob", "carol"), second);
        assertEquals(List.of("dave"), last);
        assertEquals(List.of("bob"), await(users.list("azure", 1)).stream().map(User::username)
                .collect(Collectors.toList()), "a cursor that is not a username starts at the next one");
        assertEquals(List.of(), await(users.list("dave", 10)));
    }

    @Test
    void changeFeedCarriesCreationsAndRevocationChangesInOrder() throws Exception {
        List<User> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        User alice = user("u-1", "alice", "acme");
        try (AutoCloseable subscription = users.changes().subscribe(seen::add)) {
            await(users.create(alice));
            await(users.create(alice)); // taken: no change
            await(users.setRevoked("alice", true));
            await(users.setRevoked("alice", true)); // already so: no change
            await(users.setRevoked("alice", false));
            await(users.setRevoked("nobody", true));
        }
        await(users.setRevoked("alice", true)); // after the subscription closed

        assertEquals(List.of(alice, alice.withRevoked(true), alice), seen);
    }
}
