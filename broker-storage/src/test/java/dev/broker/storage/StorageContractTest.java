package dev.broker.storage;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What every {@link Storage} backend promises, written once: a backend's test extends this class and says how to
 * open a fresh, empty store. Each test opens its own store; stores opened through {@link #open()} are closed after
 * each test.
 */
@Timeout(60)
public abstract class StorageContractTest {

    protected static final long TIMEOUT_SECONDS = 15;

    private final List<Storage> opened = new ArrayList<>();

    /** Opens a new, empty store. */
    protected abstract Storage openEmpty() throws Exception;

    protected final Storage open() throws Exception {
        Storage storage = openEmpty();
        opened.add(storage);
        return storage;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(Storage::close);
    }

    protected static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** The StorageException the future failed with. */
    protected static StorageException failureOf(CompletableFuture<?> future) {
        ExecutionException thrown = assertThrows(ExecutionException.class,
                () -> future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        return assertInstanceOf(StorageException.class, thrown.getCause());
    }

    protected static byte[] json(String text) {
        return text.getBytes(UTF_8);
    }

    protected static List<Long> ids(List<Event> events) {
        return events.stream().map(Event::id).collect(Collectors.toList());
    }

    protected static User user(String id, String username, String tenant) {
        return new User(id, username, tenant, "$argon2id$v=19$m=65536,t=3,p=1$" + id, false);
    }

    // ---- the event log

    @Test
    void appendAssignsIncreasingIdsPerTenant() throws Exception {
        EventLog log = open().events();
        long before = System.currentTimeMillis();

        Event first = await(log.append("acme", "order", json("{\"n\":1}")));
        Event other = await(log.append("globex", "order", json("{\"n\":2}")));
        Event second = await(log.append("acme", "order", json("{\"n\":3}")));
        Event third = await(log.append("acme", "invoice", json("{\"n\":4}")));

        assertTrue(first.id() > 0);
        assertTrue(first.id() < second.id() && second.id() < third.id());
        assertEquals(4, Set.of(first.id(), other.id(), second.id(), third.id()).size());
        assertEquals("acme", first.tenant());
        assertEquals("order", first.name());
        assertArrayEquals(json("{\"n\":1}"), first.data());
        assertTrue(first.timestamp() >= before && first.timestamp() <= System.currentTimeMillis());
    }

    @Test
    void latestReturnsOneEventPerNameInIdOrder() throws Exception {
        EventLog log = open().events();
        // Byte order of the names (a < b < c) differs from their id order (b, c, a).
        await(log.append("acme", "b", json("1")));
        await(log.append("acme", "c", json("2")));
        Event latestB = await(log.append("acme", "b", json("3")));
        Event latestA = await(log.append("acme", "a", json("4")));
        Event latestC = await(log.append("acme", "c", json("5")));

        List<Event> latest = await(log.latest("acme"));

        assertEquals(List.of(latestB.id(), latestA.id(), latestC.id()), ids(latest));
        assertEquals(List.of("b", "a", "c"), latest.stream().map(Event::name).collect(Collectors.toList()));
        assertArrayEquals(json("3"), latest.get(0).data());
        assertEquals(latestB.timestamp(), latest.get(0).timestamp());
        assertEquals("acme", latest.get(0).tenant());
    }

    @Test
    void afterReturnsEventsPastTheGivenIdInOrder() throws Exception {
        EventLog log = open().events();
        List<Event> appended = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            appended.add(await(log.append("acme", "tick", json("{\"i\":" + i + "}"))));
        }

        assertEquals(ids(appended), ids(await(log.after("acme", 0, 100))));
        assertEquals(ids(appended), ids(await(log.after("acme", -1, 100))));
        assertEquals(ids(appended.subList(2, 4)), ids(await(log.after("acme", appended.get(1).id(), 2))));
        assertEquals(List.of(), await(log.after("acme", appended.get(4).id(), 100)));
        assertEquals(List.of(), await(log.after("acme", 0, 0)));
        assertEquals(List.of(), await(log.after("acme", Long.MAX_VALUE, 10)));

        Event third = await(log.after("acme", appended.get(1).id(), 1)).get(0);
        assertEquals("tick", third.name());
        assertEquals("acme", third.tenant());
        assertEquals(appended.get(2).timestamp(), third.timestamp());
        assertArrayEquals(json("{\"i\":2}"), third.data());
    }

    @Test
    void boundedLatestKeepsTheSnapshotOnlyWithinItsBoundsAndCountsItEitherWay() throws Exception {
        EventLog log = open().events();
        await(log.append("acme", "a", json("\"12345678\""))); // 1 + 10 bytes of name and data
        await(log.append("acme", "bb", json("\"12345678\""))); // 2 + 10
        Event newest = await(log.append("acme", "a", json("1"))); // replaces the first: 1 + 1
        await(log.append("other", "x", json("\"not acme's\"")));

        EventLog.Latest within = await(log.latest("acme", 2, 14));
        assertTrue(within.complete());
        assertEquals(ids(await(log.latest("acme"))), ids(within.events()));
        assertEquals(newest.id(), within.events().get(1).id());
        assertEquals(2, within.names());
        assertEquals(14, within.bytes());

        for (EventLog.Latest over : List.of(await(log.latest("acme", 1, 1000)), await(log.latest("acme", 2, 13)))) {
            assertFalse(over.complete());
            assertEquals(2, over.names(), "counted to the end");
            assertEquals(14, over.bytes());
        }
        assertEquals(new EventLog.Latest(List.of(), 0, 0), await(log.latest("nobody", 0, 0)));
    }

    @Test
    void afterStopsOnceThePageReachesItsDataBound() throws Exception {
        EventLog log = open().events();
        List<Event> appended = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            // 10 bytes of data each
            appended.add(await(log.append("acme", "tick", json("\"" + "x".repeat(8) + "\""))));
        }

        // The event that reaches the bound is the last of the page.
        assertEquals(ids(appended.subList(0, 3)), ids(await(log.after("acme", 0, 100, 30))));
        assertEquals(ids(appended.subList(0, 3)), ids(await(log.after("acme", 0, 100, 21))));
        assertEquals(ids(appended.subList(0, 2)), ids(await(log.after("acme", 0, 100, 20))));
        // At least one event, however small the bound; the count limit still applies.
        assertEquals(ids(appended.subList(0, 1)), ids(await(log.after("acme", 0, 100, 1))));
        assertEquals(ids(appended.subList(3, 4)), ids(await(log.after("acme", appended.get(2).id(), 100, 0))));
        assertEquals(ids(appended.subList(0, 2)), ids(await(log.after("acme", 0, 2, 1000))));
        assertEquals(ids(appended), ids(await(log.after("acme", 0, 100, 1000))));
    }

    @Test
    void afterPagesThroughMoreEventsThanOneBatch() throws Exception {
        EventLog log = open().events();
        List<CompletableFuture<Event>> appends = new ArrayList<>();
        for (int i = 0; i < 700; i++) {
            appends.add(log.append("acme", "n" + (i % 7), json(Integer.toString(i))));
        }
        List<Long> appended = new ArrayList<>();
        for (CompletableFuture<Event> append : appends) {
            appended.add(await(append).id());
        }
        Collections.sort(appended);

        assertEquals(appended, ids(await(log.after("acme", 0, 1000))));
        assertEquals(appended.subList(100, 650), ids(await(log.after("acme", appended.get(99), 550))));
        assertEquals(7, await(log.latest("acme")).size());
    }

    @Test
    void latestAndAfterKeepTenantsApart() throws Exception {
        EventLog log = open().events();
        // Tenant "a" with name "bx" must not share a key or subject with tenant "ab" and name "x".
        Event ofA = await(log.append("a", "bx", json("1")));
        Event ofAb = await(log.append("ab", "x", json("2")));
        Event ofAbToo = await(log.append("ab", "y", json("3")));

        assertEquals(List.of(ofA.id()), ids(await(log.latest("a"))));
        assertEquals(List.of(ofAb.id(), ofAbToo.id()), ids(await(log.latest("ab"))));
        assertEquals(List.of(ofA.id()), ids(await(log.after("a", 0, 10))));
        assertEquals(List.of(ofAb.id(), ofAbToo.id()), ids(await(log.after("ab", 0, 10))));
        assertEquals(List.of(), await(log.latest("nobody")));
        assertEquals(List.of(), await(log.after("nobody", 0, 10)));
        assertEquals(List.of(), await(log.latest("")));
    }

    @Test
    void tenantsAndNamesMayHoldAnyCharacter() throws Exception {
        Storage storage = open();
        EventLog log = storage.events();
        List<Event> fed = new CopyOnWriteArrayList<>();
        storage.feed().subscribe(fed::add);
        List<String> strange = List.of("a.b", "*", ">", "a b", "tab\there", "", "😀 emoji", "\u00e9t\u00e9",
                "_2E", "=", "a.*.>", "\u4e2d\u6587", "new\nline");
        List<Event> appended = new ArrayList<>();
        for (String tenant : strange) {
            for (String name : List.of("x", tenant)) {
                appended.add(await(log.append(tenant, name, json("1"))));
            }
        }

        for (String tenant : strange) {
            List<Event> latest = await(log.latest(tenant));
            Set<String> names = latest.stream().map(Event::name).collect(Collectors.toSet());
            assertEquals(Set.of("x", tenant), names, "names of tenant " + tenant);
            assertTrue(latest.stream().allMatch(event -> event.tenant().equals(tenant)));
            assertEquals(2, await(log.after(tenant, 0, 10)).size(), "events of tenant " + tenant);
        }
        await(storage.feed().caughtUp());
        assertEquals(appended.stream().map(event -> event.tenant() + "/" + event.name()).collect(Collectors.toList()),
                fed.stream().map(event -> event.tenant() + "/" + event.name()).collect(Collectors.toList()));
    }

    @Test
    void lastIssuedIdFollowsAppendsOfEveryTenant() throws Exception {
        EventLog log = open().events();
        assertEquals(0L, await(log.lastIssuedId()));

        await(log.append("acme", "n", json("1")));
        Event last = await(log.append("globex", "n", json("2")));

        assertEquals(last.id(), await(log.lastIssuedId()));
    }

    // ---- the feed

    @Test
    void feedSeesEveryEventOnceInIdOrder() throws Exception {
        Storage storage = open();
        EventLog log = storage.events();
        Event beforeSubscribing = await(log.append("acme", "n", json("0")));
        await(storage.feed().caughtUp());
        List<Event> fed = new CopyOnWriteArrayList<>();
        storage.feed().subscribe(fed::add);

        List<CompletableFuture<Event>> appends = new ArrayList<>();
        for (int i = 1; i <= 200; i++) {
            appends.add(log.append(i % 2 == 0 ? "acme" : "globex", "n" + (i % 3), json(Integer.toString(i))));
        }
        List<Long> appendedIds = new ArrayList<>();
        for (CompletableFuture<Event> append : appends) {
            Event event = await(append);
            // An append completes only after the feed has been handed the event.
            assertTrue(fed.stream().anyMatch(seen -> seen.id() == event.id()));
            appendedIds.add(event.id());
        }
        Collections.sort(appendedIds);

        assertEquals(appendedIds, ids(fed), "every event once, in id order, none from before subscribing");
        assertTrue(fed.stream().noneMatch(event -> event.id() == beforeSubscribing.id()));
    }

    @Test
    void feedIsCaughtUpWithEveryAcknowledgedAppend() throws Exception {
        Storage storage = open();
        List<Long> fed = new CopyOnWriteArrayList<>();
        storage.feed().subscribe(event -> fed.add(event.id()));
        await(storage.feed().caughtUp()); // nothing appended yet: caught up at once

        Event appended = await(storage.events().append("acme", "n", json("1")));
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            calls.add(storage.feed().caughtUp());
        }

        for (CompletableFuture<Void> call : calls) {
            await(call);
            assertTrue(fed.contains(appended.id()));
        }
    }

    @Test
    void throwingListenerDoesNotStopOtherListeners() throws Exception {
        Storage storage = open();
        List<Long> before = Collections.synchronizedList(new ArrayList<>());
        List<Long> after = Collections.synchronizedList(new ArrayList<>());
        storage.feed().subscribe(event -> before.add(event.id()));
        storage.feed().subscribe(event -> {
            throw new IllegalStateException("listener bug (expected in this test)");
        });
        storage.feed().subscribe(event -> after.add(event.id()));

        Event first = await(storage.events().append("acme", "n", json("1")));
        Event second = await(storage.events().append("acme", "n", json("2")));
        await(storage.feed().caughtUp());

        assertEquals(List.of(first.id(), second.id()), before);
        assertEquals(List.of(first.id(), second.id()), after);
    }

    @Test
    void closingASubscriptionEndsOnlyThatSubscription() throws Exception {
        Storage storage = open();
        List<Long> fed = Collections.synchronizedList(new ArrayList<>());
        Consumer<Event> listener = event -> fed.add(event.id());
        AutoCloseable first = storage.feed().subscribe(listener);
        AutoCloseable second = storage.feed().subscribe(listener);
        Event seenTwice = await(storage.events().append("acme", "n", json("1")));

        first.close();
        first.close();
        Event seenOnce = await(storage.events().append("acme", "n", json("2")));
        second.close();
        await(storage.events().append("acme", "n", json("3")));
        await(storage.feed().caughtUp());

        assertEquals(List.of(seenTwice.id(), seenTwice.id(), seenOnce.id()), fed);
    }

    // ---- users

    @Test
    void createStoresTheUserAndFindReturnsIt() throws Exception {
        UserStore users = open().users();
        User alice = user("u-1", "alice", "acme");

        assertTrue(await(users.create(alice)));

        assertEquals(Optional.of(alice), await(users.find("alice")));
        assertEquals(Optional.empty(), await(users.find("alicia")));
    }

    @Test
    void usernamesMayHoldAnyCharacter() throws Exception {
        UserStore users = open().users();
        List<String> strange = List.of("a.b", "*", ">", "a b", "😀", "\u00e9", "_2E", "=", "x/y");
        for (String username : strange) {
            assertTrue(await(users.create(user("id-" + username, username, "t." + username))));
        }
        for (String username : strange) {
            assertEquals(Optional.of(user("id-" + username, username, "t." + username)),
                    await(users.find(username)));
        }
    }

    @Test
    void createRejectsDuplicateUsername() throws Exception {
        UserStore users = open().users();
        User original = user("u-1", "alice", "acme");
        assertTrue(await(users.create(original)));

        assertFalse(await(users.create(user("u-2", "alice", "globex"))));

        assertEquals(Optional.of(original), await(users.find("alice")));
        assertEquals(List.of(original), await(users.list()));
    }

    @Test
    void concurrentCreatesOfSameUsernameAdmitOne() throws Exception {
        UserStore users = open().users();
        int contenders = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService callers = Executors.newFixedThreadPool(contenders);
        List<Future<CompletableFuture<Boolean>>> attempts = new ArrayList<>();
        try {
            for (int i = 0; i < contenders; i++) {
                User contender = user("u-" + i, "alice", "tenant-" + i);
                attempts.add(callers.submit(() -> {
                    assertTrue(start.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
                    return users.create(contender);
                }));
            }
            start.countDown();
            List<Integer> winners = new ArrayList<>();
            for (int i = 0; i < contenders; i++) {
                if (await(attempts.get(i).get(TIMEOUT_SECONDS, TimeUnit.SECONDS))) {
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
        UserStore users = open().users();
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
    void listIsOrderedByUsernameInCodePointOrder() throws Exception {
        UserStore users = open().users();
        // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 unit.
        for (String username : List.of("carol", "alice2", "\uD83D\uDE00", "bob", "alice", "\uFF5E")) {
            await(users.create(user("id-" + username, username, "acme")));
        }

        List<String> usernames = await(users.list()).stream().map(User::username).collect(Collectors.toList());

        assertEquals(List.of("alice", "alice2", "bob", "carol", "\uFF5E", "\uD83D\uDE00"), usernames);
    }

    @Test
    void listOfAnEmptyStoreIsEmpty() throws Exception {
        UserStore users = open().users();
        assertEquals(List.of(), await(users.list()));
        assertEquals(List.of(), await(users.list(null, 10)));
    }

    @Test
    void pagesFollowOneAnotherWithoutGapOrOverlap() throws Exception {
        UserStore users = open().users();
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
        UserStore users = open().users();
        List<User> seen = new CopyOnWriteArrayList<>();
        User alice = user("u-1", "alice", "acme");
        User bob = user("u-2", "bob", "acme");
        try (AutoCloseable subscription = users.changes().subscribe(seen::add)) {
            await(users.create(alice));
            await(users.create(alice)); // taken: no change
            await(users.setRevoked("alice", true));
            await(users.setRevoked("alice", true)); // already so: no change
            await(users.setRevoked("alice", false));
            await(users.setRevoked("nobody", true));
            await(users.create(bob)); // the last change: once seen, every earlier one was
            awaitCondition(() -> seen.contains(bob), "the change feed delivers the last change");
        }
        await(users.setRevoked("alice", true)); // after the subscription closed
        await(users.create(user("u-3", "carol", "acme")));

        assertEquals(List.of(alice, alice.withRevoked(true), alice, bob), seen);
    }

    // ---- lifecycle

    @Test
    void everyOperationFailsOnceClosed() throws Exception {
        Storage storage = openEmpty();
        assertTrue(storage.isOpen());
        assertTrue(storage.health().writable(), storage.health().reason());
        storage.close();
        storage.close();

        assertFalse(storage.isOpen());
        assertFalse(storage.health().writable());
        Map<String, Supplier<CompletableFuture<?>>> operations = Map.of(
                "append", () -> storage.events().append("acme", "n", json("1")),
                "latest", () -> storage.events().latest("acme"),
                "after", () -> storage.events().after("acme", 0, 10),
                "create user", () -> storage.users().create(user("u-1", "alice", "acme")),
                "find user", () -> storage.users().find("alice"),
                "list users", () -> storage.users().list(),
                "set revoked", () -> storage.users().setRevoked("alice", true));
        operations.forEach((operation, call) ->
                assertEquals(operation + ": storage is closed", failureOf(call.get()).getMessage()));
    }

    @Test
    void closeCompletesEveryAppendAlreadyAccepted() throws Exception {
        Storage storage = openEmpty();
        List<CompletableFuture<Event>> accepted = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            accepted.add(storage.events().append("acme", "n", json(Integer.toString(i))));
        }

        storage.close();

        for (CompletableFuture<Event> append : accepted) {
            assertTrue(append.isDone(), "close returned before an accepted append completed");
        }
    }

    /** Polls with a deadline: for what arrives on another thread with no hook to wait on. */
    protected static void awaitCondition(Supplier<Boolean> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + TIMEOUT_SECONDS + " s: " + what);
            }
            Thread.sleep(10);
        }
    }
}
