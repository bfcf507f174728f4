package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Nchan behind nginx (see {@code bench/nchan.conf}): a channel per scenario, subscribed as an EventSource on
 * {@code GET <sub-path>?id=<channel>} and published with {@code POST <pub-path>?id=<channel>}. The event name
 * travels in {@code X-EventSource-Event}, so Nchan's frames carry {@code id}, {@code event} and {@code data} like
 * Broker's.
 */
final class NchanTarget implements Target {

    private final InetSocketAddress address;
    private final ClientTls tls;
    private final String subPath;
    private final String pubPath;

    NchanTarget(InetSocketAddress address, ClientTls tls, String subPath, String pubPath) {
        this.address = address;
        this.tls = tls;
        this.subPath = subPath;
        this.pubPath = pubPath;
    }

    @Override
    public String name() {
        return "nchan";
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
    public Stream newStream(String scenario) {
        String channel = "bench-" + scenario + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        String host = "Host: " + address.getHostString() + ":" + address.getPort() + "\r\n";
        byte[] subscribe = RequestBytes.ascii("GET " + subPath + "?id=" + channel + " HTTP/1.1\r\n" + host
                + "Accept: text/event-stream\r\n");
        String publish = "POST " + pubPath + "?id=" + channel + " HTTP/1.1\r\n" + host
                + "Content-Type: application/json\r\nAccept: text/plain\r\n";
        byte[] nothing = new byte[0];
        java.util.Map<String, byte[]> heads = new java.util.concurrent.ConcurrentHashMap<>();
        return new Stream() {
            @Override
            public ByteBuf subscribeRequest(ByteBufAllocator alloc, String lastEventId) {
                return RequestBytes.get(alloc, subscribe, lastEventId);
            }

            @Override
            public ByteBuf publishRequest(ByteBufAllocator alloc, String event, byte[] json) {
                byte[] head = heads.computeIfAbsent(event,
                        e -> RequestBytes.ascii(publish + "X-EventSource-Event: " + e + "\r\n"));
                return RequestBytes.post(alloc, head, nothing, json, nothing);
            }
        };
    }
}
