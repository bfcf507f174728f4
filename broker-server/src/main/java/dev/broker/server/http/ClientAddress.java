package dev.broker.server.http;

import io.netty.channel.Channel;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The client a connection counts against, for the limits kept per client: its IPv4 address, or the /64 network of
 * its IPv6 address (one subscriber line usually holds a whole /64, so counting single IPv6 addresses would limit
 * nothing). An IPv4-mapped IPv6 address counts as its IPv4 address.
 */
public final class ClientAddress {

    private ClientAddress() {
    }

    /** The key of the channel's peer (an HTTP/2 stream's is its connection's), or null when it has none (tests). */
    public static InetAddress of(Channel channel) {
        SocketAddress remote = channel.remoteAddress();
        return remote instanceof InetSocketAddress inet && inet.getAddress() != null ? of(inet.getAddress()) : null;
    }

    /** The key of an address: itself for IPv4, its /64 for IPv6. */
    public static InetAddress of(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] bytes = address.getAddress();
        try {
            if (isIpv4Mapped(bytes)) {
                return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16));
            }
            Arrays.fill(bytes, 8, 16, (byte) 0);
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException impossible) {
            throw new AssertionError(impossible);
        }
    }

    private static boolean isIpv4Mapped(byte[] bytes) {
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
    }
}
