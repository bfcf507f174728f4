package dev.broker.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * An SSE subscriber that stops reading: a raw socket with a small receive buffer that reads the response head
 * (and, if asked, a few frames) byte by byte and then nothing, so the server's unsent data piles up.
 *
 * <p>Whether the server has given up on it cannot be seen from the client without reading (the server's FIN
 * waits behind the unread data), so {@link #awaitServerClosed} watches the server's end of the connection in
 * {@code /proc/net/tcp} or {@code /proc/net/tcp6} (Linux) leave the ESTABLISHED state; a socket that is gone
 * after having been seen counts as closed. {@link #drainUntilClosed} then reads what is left
 * and returns at the end of the stream or a reset.
 */
public final class SseStalledSubscriber implements AutoCloseable {

    private static final Path PROC_NET_TCP = Path.of("/proc/net/tcp");
    private static final Path PROC_NET_TCP6 = Path.of("/proc/net/tcp6");
    private static final String ESTABLISHED = "01";

    private final Socket socket;
    private final int serverPort;
    private final InputStream in;

    private SseStalledSubscriber(Socket socket, int serverPort) throws IOException {
        this.socket = socket;
        this.serverPort = serverPort;
        this.in = socket.getInputStream();
    }

    /** Connects to 127.0.0.1, sends {@code GET pathAndQuery} with the header lines, and reads the head. */
    public static SseStalledSubscriber open(int port, String pathAndQuery, String... headerLines) {
        Socket socket = new Socket();
        try {
            socket.setReceiveBufferSize(4 * 1024);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            StringBuilder request = new StringBuilder("GET ").append(pathAndQuery).append(" HTTP/1.1\r\n")
                    .append("Host: 127.0.0.1:").append(port).append("\r\n");
            for (String line : headerLines) {
                request.append(line).append("\r\n");
            }
            socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
            socket.setSoTimeout(10_000);
            SseStalledSubscriber subscriber = new SseStalledSubscriber(socket, port);
            String head = subscriber.readThrough("\r\n\r\n");
            if (!head.startsWith("HTTP/1.1 200 ")) {
                throw new AssertionError("GET " + pathAndQuery + " answered " + head);
            }
            return subscriber;
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // failing anyway
            }
            throw new UncheckedIOException(e);
        }
    }

    /** Reads byte by byte (nothing beyond) up to and including {@code end}; for a frame, {@code "\n\n"}. */
    public String readThrough(String end) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        byte[] tail = end.getBytes(StandardCharsets.ISO_8859_1);
        while (!endsWith(read, tail)) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("stream ended after " + read.toString(StandardCharsets.ISO_8859_1));
            }
            read.write(b);
        }
        return read.toString(StandardCharsets.ISO_8859_1);
    }

    private static boolean endsWith(ByteArrayOutputStream read, byte[] tail) {
        if (read.size() < tail.length) {
            return false;
        }
        byte[] bytes = read.toByteArray();
        for (int i = 0; i < tail.length; i++) {
            if (bytes[bytes.length - tail.length + i] != tail[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Polls until the server's end of this connection is no longer ESTABLISHED (it closed it), without reading;
     * fails the test if that does not happen within {@code timeout}.
     */
    public void awaitServerClosed(Duration timeout) throws IOException, InterruptedException {
        String server = String.format(Locale.ROOT, ":%04X", serverPort);
        String client = String.format(Locale.ROOT, ":%04X", socket.getLocalPort());
        String state = serverSideState(server, client);
        if (state == null) {
            throw new AssertionError("connection " + server + " -> " + client + " not found in " + PROC_NET_TCP
                    + " or " + PROC_NET_TCP6 + ": this check needs Linux");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (ESTABLISHED.equals(state)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the server kept the stalled stream (port " + serverPort + " -> "
                        + socket.getLocalPort() + ") open for " + timeout);
            }
            Thread.sleep(50);
            state = serverSideState(server, client);
        }
    }

    /**
     * The state of the server's end of the connection (hex, as in /proc/net/tcp; {@code "01"} is ESTABLISHED), or
     * null if there is no such socket. Ports identify it: both ends are on the loopback. The address may be listed
     * as IPv4 or as IPv4-mapped IPv6, so only the {@code :PORT} suffixes (big-endian hex) are compared.
     */
    private static String serverSideState(String serverPortSuffix, String clientPortSuffix) throws IOException {
        for (Path table : List.of(PROC_NET_TCP, PROC_NET_TCP6)) {
            if (!Files.isReadable(table)) {
                continue;
            }
            List<String> lines = Files.readAllLines(table);
            for (String line : lines.subList(1, lines.size())) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length > 3 && fields[1].endsWith(serverPortSuffix) && fields[2].endsWith(clientPortSuffix)) {
                    return fields[3];
                }
            }
        }
        return null;
    }

    /** Reads until the end of the stream or a reset and returns the bytes read; fails after {@code timeout}. */
    public long drainUntilClosed(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new AssertionError("the stream was still open after " + timeout + " (drained " + total
                        + " bytes)");
            }
            socket.setSoTimeout((int) Math.min(left, 1_000));
            try {
                int n = in.read(buffer);
                if (n < 0) {
                    return total;
                }
                total += n;
            } catch (SocketTimeoutException stillOpen) {
                // poll again until the deadline
            } catch (SocketException reset) {
                return total;
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
