package dev.broker.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP at the byte level over a plain {@link Socket}: for what a well-behaved client library will not send
 * (malformed request lines, huge headers, pipelining, HTTP/1.0) and for watching the server close the connection.
 * Every read has a timeout, so a server that neither answers nor closes fails the test instead of hanging it.
 */
public final class RawHttp implements Closeable {

    /** How long any single read waits before the test is failed. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    /** One response as read off the wire; header names are lower-cased. */
    public record Response(String statusLine, int status, Map<String, List<String>> headers, byte[] body) {

        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The response as an {@link HttpResult}, so the same assertions apply to both kinds of client. */
        public HttpResult toResult() {
            return new HttpResult(status, java.net.http.HttpHeaders.of(headers, (a, b) -> true), bodyText());
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public static RawHttp connect(int port) {
        return connect(null, port);
    }

    /**
     * Connects from {@code localAddress} (say 127.0.0.2: all of 127/8 is this machine, so a test can play clients on
     * other addresses), or from any address when null.
     */
    public static RawHttp connect(String localAddress, int port) {
        try {
            Socket socket = new Socket();
            if (localAddress != null) {
                socket.bind(new InetSocketAddress(localAddress, 0));
            }
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            socket.setTcpNoDelay(true);
            return new RawHttp(socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Socket socket() {
        return socket;
    }

    /** Writes text (ISO-8859-1, so that every char is one byte) as it is: the caller writes the CRLFs. */
    public RawHttp send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes bytes, tolerating a server that already answered and closed (a broken pipe or reset while writing
     * is what a refused oversized request may look like from this side).
     */
    public RawHttp sendTolerantly(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException ignored) {
            // The server may close before reading everything; the response (if any) is still readable.
        }
        return this;
    }

    /** Reads one complete response: head, then a body of {@code Content-Length} bytes (or none). */
    public Response readResponse() {
        Response head = readHead();
        String length = head.header("content-length");
        if (length == null) {
            return head;
        }
        byte[] body = readExactly(Integer.parseInt(length.trim()));
        return new Response(head.statusLine(), head.status(), head.headers(), body);
    }

    /** Reads a response head (status line and headers, up to the blank line) and nothing of the body. */
    public Response readHead() {
        ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
        int last4 = 0; // the last four bytes read, so that "\r\n\r\n" ends the head
        try {
            while (last4 != 0x0d0a0d0a) {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("connection closed before a complete response head; got: "
                            + headBytes.toString(StandardCharsets.ISO_8859_1));
                }
                headBytes.write(b);
                last4 = (last4 << 8) | b;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no response head within " + READ_TIMEOUT + "; got: "
                    + headBytes.toString(StandardCharsets.ISO_8859_1), e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading a response head; got so far: "
                    + headBytes.toString(StandardCharsets.ISO_8859_1), e);
        }
        String[] lines = headBytes.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String statusLine = lines[0];
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new AssertionError("not an HTTP status line: " + statusLine);
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(lines[i].substring(colon + 1).trim());
            }
        }
        return new Response(statusLine, Integer.parseInt(parts[1]), headers, new byte[0]);
    }

    private byte[] readExactly(int n) {
        byte[] buf = new byte[n];
        int read = 0;
        try {
            while (read < n) {
                int r = in.read(buf, read, n - read);
                if (r < 0) {
                    throw new AssertionError("connection closed after " + read + " of " + n + " body bytes");
                }
                read += r;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("body incomplete after " + READ_TIMEOUT + ": " + read + " of " + n + " bytes", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf;
    }

    /**
     * Whether the server closes the connection within the timeout, with nothing more sent: true once a read
     * returns end-of-stream (or the peer reset the connection), false if the timeout passes first. Bytes that
     * arrive meanwhile fail the test: after the response the server was expected to say nothing more.
     */
    public boolean closesWithin(Duration timeout) {
        try {
            socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            int b = in.read();
            if (b >= 0) {
                byte[] more = in.readNBytes(Math.min(in.available(), 200));
                throw new AssertionError("expected the connection to close, but the server sent more: "
                        + (char) b + new String(more, StandardCharsets.ISO_8859_1));
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset by peer: closed, too
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            } catch (SocketException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
