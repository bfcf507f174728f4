package dev.broker.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.net.URI;

/**
 * A server under test, seen through the only two requests the scenarios make: subscribe to a stream and publish an
 * event to it. Broker and Nchan differ only here; everything else (connections, parsing, timing) is shared.
 */
public interface Target {

    /** {@code broker} or {@code nchan}. */
    String name();

    InetSocketAddress address();

    /** The client's TLS for an {@code https://} URL, or null for plain HTTP. */
    ClientTls tls();

    /** A fresh stream for one scenario: a new tenant (Broker) or a new channel (Nchan), so runs do not mix. */
    Stream newStream(String scenario) throws Exception;

    /** One stream's requests, pre-encoded so that sending one costs a buffer copy. */
    interface Stream {

        /** {@code GET} of the event stream, optionally resuming after {@code lastEventId}. */
        ByteBuf subscribeRequest(ByteBufAllocator alloc, String lastEventId);

        /** A keep-alive {@code POST} publishing one event whose data is the given compact JSON. */
        ByteBuf publishRequest(ByteBufAllocator alloc, String event, byte[] json);

        /** Whether a publish answered with this status was accepted. */
        default boolean accepted(int status) {
            return status >= 200 && status < 300;
        }

        /**
         * Checks that the body of an accepted publish acknowledges the event that was sent: returns the id it
         * carries, 0 when this target's acknowledgements carry no id, or -1 when the body acknowledges something
         * else (a response matched to the wrong request).
         */
        default long acknowledgedId(String event, String body) {
            return 0;
        }
    }

    static Target of(Options options) {
        String kind = options.string("target", "broker");
        URI url = URI.create(options.string("url", "http://127.0.0.1:8080"));
        boolean secure = "https".equals(url.getScheme());
        if (!secure && !"http".equals(url.getScheme()) || url.getHost() == null) {
            throw new IllegalArgumentException("--url must be http://host:port or https://host:port, not " + url);
        }
        InetSocketAddress address = new InetSocketAddress(url.getHost(), url.getPort() < 0 ? (secure ? 443 : 80) : url.getPort());
        if (!address.getAddress().isLoopbackAddress()) {
            // This tool sends bounded but heavy load; it is meant for a server on this machine only.
            throw new IllegalArgumentException("--url must point to a loopback address (127.0.0.0/8), not " + url);
        }
        int h2Streams = options.integer("h2-streams-per-conn", 0);
        if (h2Streams > 0 && !secure) {
            throw new IllegalArgumentException("--h2-streams-per-conn needs an https:// URL (h2 is negotiated with ALPN)");
        }
        ClientTls tls = secure ? ClientTls.of(options, address.getPort(), h2Streams) : null;
        return switch (kind) {
            case "broker" -> new BrokerTarget(address, tls, options.required("admin-token"), options.string("auth", "bearer"));
            case "nchan" -> new NchanTarget(address, tls, options.string("sub-path", "/sub"), options.string("pub-path", "/pub"));
            default -> throw new IllegalArgumentException("--target must be broker or nchan, not " + kind);
        };
    }
}
