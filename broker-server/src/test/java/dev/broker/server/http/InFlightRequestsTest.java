package dev.broker.server.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link InFlightRequests}: each loop counts its own requests; shutdown waits for all of them. */
class InFlightRequestsTest {

    private final InFlightRequests inFlight = new InFlightRequests();
    private final DefaultEventLoopGroup group = new DefaultEventLoopGroup(2);

    @AfterEach
    void tearDown() throws InterruptedException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private InFlightRequests.LoopCounter begin(EventLoop loop) throws Exception {
        return loop.submit(() -> {
            InFlightRequests.LoopCounter counter = inFlight.on(loop);
            counter.begin();
            return counter;
        }).get();
    }

    @Test
    void awaitIdleWaitsForTheRequestsUnderWayOnEveryLoop() throws Exception {
        EventLoop first = group.next();
        EventLoop second = group.next();
        InFlightRequests.LoopCounter onFirst = begin(first);
        InFlightRequests.LoopCounter onSecond = begin(second);
        begin(second);

        assertFalse(inFlight.awaitIdle(20, TimeUnit.MILLISECONDS));
        first.submit(onFirst::end).get();
        assertFalse(inFlight.awaitIdle(0, TimeUnit.MILLISECONDS), "two requests still under way on the second loop");
        second.submit(() -> {
            onSecond.end();
            onSecond.end();
        }).get();
        assertTrue(inFlight.awaitIdle(0, TimeUnit.MILLISECONDS));
    }

    @Test
    void awaitIdleReturnsAsSoonAsTheLastRequestEnds() throws Exception {
        EventLoop loop = group.next();
        InFlightRequests.LoopCounter counter = begin(loop);
        inFlight.startDraining();

        loop.schedule(counter::end, 50, TimeUnit.MILLISECONDS);

        assertTrue(inFlight.draining());
        assertTrue(inFlight.awaitIdle(10, TimeUnit.SECONDS));
    }

    @Test
    void aLoopsCounterIsChangedOnThatLoopOnly() throws Exception {
        InFlightRequests.LoopCounter counter = begin(group.next());

        assertThrows(AssertionError.class, counter::end, "tests run with -ea");
    }
}
