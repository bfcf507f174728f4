package dev.broker.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The failure buckets on a clock the test moves: bursts, refills, refunds, the two keys and the lanes. */
class AuthThrottleTest {

    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong now = new AtomicLong(1_000 * SECOND);
    private final InetAddress alice = address("192.0.2.1");
    private final InetAddress bob = address("192.0.2.2");

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private AuthThrottle throttle(int perUser, int perClient) {
        return new AuthThrottle(perUser, perClient, now::get);
    }

    private static void fail(AuthThrottle throttle, String username, InetAddress client, int times) {
        for (int i = 0; i < times; i++) {
            throttle.begin(username, client).failed();
        }
    }

    @Test
    void aUsernameMayFailABurstThenOncePerInterval() {
        AuthThrottle throttle = throttle(10, 0);
        fail(throttle, "ada", alice, 10);

        TooManyAttemptsException refused = assertThrows(TooManyAttemptsException.class,
                () -> throttle.begin("ada", bob));
        assertEquals(6, refused.retryAfterSeconds(), "one more place every 60/10 s");

        now.addAndGet(6 * SECOND);
        throttle.begin("ada", alice).failed();
        assertThrows(TooManyAttemptsException.class, () -> throttle.begin("ada", alice));
        throttle.begin("grace", alice).failed(); // another username is not limited by ada's failures
    }

    @Test
    void anAddressMayFailABurstAcrossUsernames() {
        AuthThrottle throttle = throttle(0, 3);
        throttle.begin("a", alice).failed();
        throttle.begin("b", alice).failed();
        throttle.begin("c", alice).failed();

        TooManyAttemptsException refused = assertThrows(TooManyAttemptsException.class,
                () -> throttle.begin("d", alice));
        assertEquals(20, refused.retryAfterSeconds());
        throttle.begin("d", bob).failed(); // another address is not
    }

    @Test
    void successGivesThePlaceBackAndSoDoesACheckNeverMade() {
        AuthThrottle throttle = throttle(2, 2);
        for (int i = 0; i < 100; i++) {
            throttle.begin("ada", alice).succeeded();
            throttle.begin("ada", alice).abandoned();
        }
        fail(throttle, "ada", alice, 2);
        assertThrows(TooManyAttemptsException.class, () -> throttle.begin("ada", alice));
    }

    @Test
    void checksUnderWayHoldTheirPlaces() {
        AuthThrottle throttle = throttle(3, 0);
        AuthThrottle.Attempt first = throttle.begin("ada", alice);
        throttle.begin("ada", alice);
        throttle.begin("ada", alice);

        assertThrows(TooManyAttemptsException.class, () -> throttle.begin("ada", alice),
                "concurrent guesses cannot all slip in before the first one fails");
        first.succeeded();
        throttle.begin("ada", alice);
    }

    @Test
    void aRefusalByAddressTakesNoPlaceOfTheUsername() {
        AuthThrottle throttle = throttle(2, 1);
        throttle.begin("x", alice).failed();

        assertThrows(TooManyAttemptsException.class, () -> throttle.begin("ada", alice));
        assertThrows(TooManyAttemptsException.class, () -> throttle.begin("ada", alice));
        fail(throttle, "ada", bob, 1);
        throttle.begin("ada", address("192.0.2.3")); // ada's second place was still free
    }

    @Test
    void recentFailuresSendChecksToTheSecondLane() {
        AuthThrottle throttle = throttle(10, 60);
        assertEquals(HashLane.FIRST, lane(throttle, "ada", alice, true));

        throttle.begin("mallory-1", bob).failed();
        assertEquals(HashLane.SECOND, lane(throttle, "ada", bob, true), "the address failed lately");
        throttle.begin("eve", alice).failed();
        assertEquals(HashLane.SECOND, lane(throttle, "eve", address("192.0.2.9"), true), "the username failed lately");

        now.addAndGet(30 * SECOND);
        assertEquals(HashLane.SECOND, lane(throttle, "ada", bob, true),
                "the address's bucket is full again, but it failed within the minute");
        now.addAndGet(30 * SECOND);
        assertEquals(HashLane.FIRST, lane(throttle, "eve", bob, true), "both were forgiven with time");
    }

    @Test
    void ofConcurrentChecksFromANewAddressOnlyTheFirstIsClean() {
        AuthThrottle throttle = throttle(10, 60);
        AuthThrottle.Attempt first = throttle.begin("nobody-1", bob);

        assertEquals(HashLane.FIRST, first.lane());
        assertEquals(HashLane.SECOND, throttle.begin("nobody-2", bob).lane(), "the address has a check under way");
        assertEquals(HashLane.FIRST, throttle.begin("ada", alice).lane(), "another address has not");
    }

    private static HashLane lane(AuthThrottle throttle, String username, InetAddress client, boolean succeed) {
        AuthThrottle.Attempt attempt = throttle.begin(username, client);
        if (succeed) {
            attempt.succeeded();
        }
        return attempt.lane();
    }

    @Test
    void noLimitsMeansNoRefusals() {
        AuthThrottle throttle = AuthThrottle.unlimited();
        fail(throttle, "ada", alice, 10_000);
        assertEquals(HashLane.FIRST, throttle.begin("ada", alice).lane());
    }
}
