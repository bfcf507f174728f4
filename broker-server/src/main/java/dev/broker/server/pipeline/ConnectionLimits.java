package dev.broker.server.pipeline;

import dev.broker.server.http.ClientAddress;
import dev.broker.server.logging.OperatorLog;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many connections are open, in all and per {@linkplain ClientAddress client address}, and the caps on both.
 * The initializer asks {@link #admit} first thing for every accepted connection: one over a cap is refused at once
 * (a plain-HTTP connection gets a canned {@code 503} with {@code Retry-After: 1} and is closed; a TLS one is closed
 * without a word, since nothing readable can be said before a handshake), so it never holds a descriptor for long
 * and the accept loop goes on serving the connections already open. A connection admitted is counted until its
 * channel closes. Thread-safe: the loops accept concurrently.
 */
public final class ConnectionLimits {

    /** Descriptors left for everything but connections: at least this many ... */
    static final int MIN_RESERVE = 1000;
    /** ... or this share of the limit (percent), whichever is larger, but never more than half the limit. */
    static final int RESERVE_PERCENT = 10;
    /** Where the open-files limit cannot be read (not a Unix JVM). */
    static final long ASSUMED_OPEN_FILES_LIMIT = 10_000;
    /** Refusals are logged at most this often, with their count since the last line. */
    private static final long LOG_INTERVAL_NANOS = 60L * 1_000_000_000L;

    private static final String BUSY_BODY = "{\"error\":\"too many connections\"}";
    private static final byte[] BUSY_ANSWER = ("HTTP/1.1 503 Service Unavailable\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: " + BUSY_BODY.length() + "\r\n"
            + "Retry-After: 1\r\n"
            + "Connection: close\r\n"
            + "\r\n"
            + BUSY_BODY).getBytes(StandardCharsets.US_ASCII);

    private final int max;
    private final int maxPerClient;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perClient = new ConcurrentHashMap<>();
    private final AtomicLong refused = new AtomicLong();
    /** Every refusal since the start (for metrics; {@link #refused} is the count since the last log line). */
    private final AtomicLong refusedTotal = new AtomicLong();
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);

    /**
     * @param max          connections at most, in all
     * @param maxPerClient connections at most per client address; 0 for no such cap
     */
    public ConnectionLimits(int max, int maxPerClient) {
        if (max < 1 || maxPerClient < 0) {
            throw new IllegalArgumentException("max " + max + ", per client " + maxPerClient);
        }
        this.max = max;
        this.maxPerClient = maxPerClient;
    }

    /** The cap that {@code --max_connections 0} stands for: the open-files limit less a reserve. */
    public static int derivedMax() {
        return derivedMax(openFilesLimit());
    }

    /** {@code limit} less max(1000, 10 % of it), the reserve never more than half of it; at least 1. */
    static int derivedMax(long limit) {
        long reserve = Math.min(Math.max(MIN_RESERVE, limit * RESERVE_PERCENT / 100), limit / 2);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, limit - reserve));
    }

    private static long openFilesLimit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix && unix.getMaxFileDescriptorCount() > 0) {
            return unix.getMaxFileDescriptorCount();
        }
        return ASSUMED_OPEN_FILES_LIMIT;
    }

    public int max() {
        return max;
    }

    public int maxPerClient() {
        return maxPerClient;
    }

    /** Connections open now. */
    public int open() {
        return open.get();
    }

    /**
     * Counts the new connection if both caps allow it, until it closes; refuses and closes it otherwise.
     *
     * @param plainHttp whether the connection speaks plain HTTP (then it is told why)
     * @return whether the connection was admitted
     */
    public boolean admit(Channel channel, boolean plainHttp) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            refuse(channel, plainHttp, "the server holds " + max + " connections");
            return false;
        }
        InetAddress client = maxPerClient == 0 ? null : ClientAddress.of(channel);
        if (client != null && !takeSlot(client)) {
            open.decrementAndGet();
            refuse(channel, plainHttp, client.getHostAddress() + " holds " + maxPerClient + " connections");
            return false;
        }
        channel.closeFuture().addListener(closed -> {
            if (client != null) {
                perClient.computeIfPresent(client, (key, n) -> n == 1 ? null : n - 1);
            }
            open.decrementAndGet();
        });
        return true;
    }

    private boolean takeSlot(InetAddress client) {
        boolean[] taken = new boolean[1];
        perClient.compute(client, (key, n) -> {
            int count = n == null ? 0 : n;
            taken[0] = count < maxPerClient;
            return taken[0] ? count + 1 : n;
        });
        return taken[0];
    }

    /** Connections refused at a cap since the start. */
    public long refusedTotal() {
        return refusedTotal.get();
    }

    private void refuse(Channel channel, boolean plainHttp, String why) {
        refusedTotal.incrementAndGet();
        long count = refused.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
            refused.addAndGet(-count);
            OperatorLog.warning("connections_refused", "refused " + count + " connection(s) since the last report;"
                    + " the latest from " + channel.remoteAddress() + ": " + why, "count", count);
        }
        if (plainHttp) {
            // May meet a request already sent: the client then reads the 503 or, at worst, a reset. Either way the
            // descriptor is freed at once instead of lingering.
            channel.writeAndFlush(Unpooled.wrappedBuffer(BUSY_ANSWER)).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }
}
