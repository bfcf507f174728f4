package dev.broker.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A deliberately dumb SSE client over a raw {@link Socket}, so tests see exactly what the server sends: it writes
 * {@code GET <path> HTTP/1.1} with the given headers, parses the status line and headers itself, then a reader
 * thread keeps every byte of the body (for byte-exact assertions) and parses frames into queues that tests
 * {@linkplain #next(Duration) await with a deadline}.
 *
 * <p>The parser follows the SSE field rules (lines end with LF; {@code field:value}; a blank line dispatches an
 * event; a line starting with {@code :} is a comment) except that it does <em>not</em> strip a space after the
 * colon: the contract promises none, and a stray one shows up in the values. A non-200 answer is read as an
 * ordinary HTTP response ({@link #body()}) and no frames are parsed.
 */
public final class SseClient implements AutoCloseable {

    /** One dispatched event; {@code id} and {@code name} are null when the event had no such field. */
    public record Event(String id, String name, String data) {

        public long idAsLong() {
            return Long.parseLong(id);
        }

        @Override
        public String toString() {
            String shown = data == null || data.length() <= 120 ? data
                    : data.substring(0, 120) + "...(" + data.length() + " chars)";
            return "{id=" + id + ", event=" + name + ", data=" + shown + "}";
        }
    }

    private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_HEAD_BYTES = 64 * 1024;

    private final Socket socket;
    private final InputStream in;
    private final String statusLine;
    private final int status;
    /** Header lines as received, in order, without the CRLF. */
    private final List<String> headerLines;
    /** Lower-case name to values. */
    private final Map<String, List<String>> headers;
    private final String body;

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> comments = new LinkedBlockingQueue<>();
    private final List<Event> received = Collections.synchronizedList(new ArrayList<>());
    private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile Throwable closeCause;
    private final Thread reader;

    // Parser state, reader thread only.
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private String pendingId;
    private String pendingName;
    private StringBuilder pendingData;

    private SseClient(Socket socket, InputStream in, String statusLine, List<String> headerLines) throws IOException {
        this.socket = socket;
        this.in = in;
        this.statusLine = statusLine;
        this.headerLines = List.copyOf(headerLines);
        Map<String, List<String>> byName = new LinkedHashMap<>();
        for (String header : headerLines) {
            int colon = header.indexOf(':');
            String name = (colon < 0 ? header : header.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
            String value = colon < 0 ? "" : header.substring(colon + 1).trim();
            byName.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
        }
        this.headers = Collections.unmodifiableMap(byName);
        String[] parts = statusLine.split(" ", 3);
        this.status = parts.length >= 2 ? Integer.parseInt(parts[1]) : -1;
        if (status == 200) {
            this.body = null;
            this.reader = new Thread(this::readStream, "sse-client-" + socket.getLocalPort());
            this.reader.setDaemon(true);
            this.reader.start();
        } else {
            this.body = readPlainBody();
            this.reader = null;
        }
    }

    /**
     * Connects to {@code 127.0.0.1:port}, sends {@code GET pathAndQuery} with the header pairs
     * ({@code "Name", "value", ...}) and returns once the response head has arrived.
     */
    public static SseClient connect(int port, String pathAndQuery, String... headerPairs) {
        if (headerPairs.length % 2 != 0) {
            throw new IllegalArgumentException("headers come in name/value pairs");
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            StringBuilder request = new StringBuilder()
                    .append("GET ").append(pathAndQuery).append(" HTTP/1.1\r\n")
                    .append("Host: 127.0.0.1:").append(port).append("\r\n")
                    .append("Accept: text/event-stream\r\n");
            for (int i = 0; i < headerPairs.length; i += 2) {
                request.append(headerPairs[i]).append(": ").append(headerPairs[i + 1]).append("\r\n");
            }
            request.append("\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            socket.setSoTimeout((int) HEAD_TIMEOUT.toMillis());
            InputStream in = socket.getInputStream();
            List<String> lines = readHead(in);
            socket.setSoTimeout(0);
            return new SseClient(socket, in, lines.get(0), lines.subList(1, lines.size()));
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("GET " + pathAndQuery + " on port " + port, e);
        }
    }

    /** Reads the head byte by byte (so no body byte is consumed) up to the blank line; returns its lines. */
    private static List<String> readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] terminator = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: "
                        + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
            if (head.size() > MAX_HEAD_BYTES) {
                throw new IOException("response head too long");
            }
            matched = b == terminator[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        List<String> lines = new ArrayList<>(List.of(text.substring(0, text.length() - 4).split("\r\n", -1)));
        return lines;
    }

    private String readPlainBody() throws IOException {
        String length = header("content-length");
        socket.setSoTimeout((int) HEAD_TIMEOUT.toMillis());
        try {
            if (length != null) {
                return new String(in.readNBytes(Integer.parseInt(length)), StandardCharsets.UTF_8);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            socket.setSoTimeout(0);
        }
    }

    private void readStream() {
        byte[] buffer = new byte[16 * 1024];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (raw) {
                    raw.write(buffer, 0, n);
                }
                for (int i = 0; i < n; i++) {
                    accept(buffer[i]);
                }
            }
        } catch (IOException e) {
            closeCause = e;
        } finally {
            closed.countDown();
        }
    }

    private void accept(byte b) {
        if (b != '\n') {
            line.write(b);
            return;
        }
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        if (text.isEmpty()) {
            if (pendingData != null || pendingId != null || pendingName != null) {
                Event event = new Event(pendingId, pendingName, pendingData == null ? null : pendingData.toString());
                pendingId = null;
                pendingName = null;
                pendingData = null;
                received.add(event);
                events.add(event);
            }
            return;
        }
        if (text.startsWith(":")) {
            comments.add(text.substring(1));
            return;
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        String value = colon < 0 ? "" : text.substring(colon + 1);
        switch (field) {
            case "id" -> pendingId = value;
            case "event" -> pendingName = value;
            case "data" -> {
                if (pendingData == null) {
                    pendingData = new StringBuilder(value);
                } else {
                    pendingData.append('\n').append(value);
                }
            }
            default -> {
                // retry and unknown fields: not used by Broker
            }
        }
    }

    public int status() {
        return status;
    }

    public String statusLine() {
        return statusLine;
    }

    /** Header lines exactly as received, in order. */
    public List<String> headerLines() {
        return headerLines;
    }

    /** Values by lower-case header name. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The first value of a header (name case-insensitive), or null. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The body of a non-200 response; null for a stream. */
    public String body() {
        return body;
    }

    /** The next event, waiting up to {@code timeout}; fails the test if none arrives. */
    public Event next(Duration timeout) {
        Event event = poll(timeout);
        if (event == null) {
            throw new AssertionError("no SSE event within " + timeout + "; " + describe());
        }
        return event;
    }

    /** The next {@code count} events, all within {@code timeout}; fails the test otherwise. */
    public List<Event> next(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Event> result = new ArrayList<>(count);
        while (result.size() < count) {
            Event event = poll(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (event == null) {
                throw new AssertionError("got " + result.size() + " of " + count + " SSE events within " + timeout
                        + ": " + result + "; " + describe());
            }
            result.add(event);
        }
        return result;
    }

    /**
     * Events up to and including the first whose id is at least {@code id}, all within {@code timeout}; fails the
     * test if that event does not arrive.
     */
    public List<Event> nextUntilId(long id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Event> result = new ArrayList<>();
        while (true) {
            Event event = poll(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (event == null) {
                throw new AssertionError("no SSE event with id >= " + id + " within " + timeout + " (got "
                        + result.size() + " events, last " + (result.isEmpty() ? null : result.get(result.size() - 1))
                        + "); " + describe());
            }
            result.add(event);
            if (event.id() != null && event.idAsLong() >= id) {
                return result;
            }
        }
    }

    /** The next event, or null if none arrives within {@code timeout} (or the stream ended without one). */
    public Event poll(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                boolean ended = isClosed();
                long left = deadline - System.nanoTime();
                Event event = events.poll(Math.max(0, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50))),
                        TimeUnit.NANOSECONDS);
                if (event != null || ended || left <= 0) {
                    return event;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The text of the next comment line (after the colon), waiting up to {@code timeout}; fails otherwise. */
    public String nextComment(Duration timeout) {
        try {
            String comment = comments.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (comment == null) {
                throw new AssertionError("no SSE comment within " + timeout + "; " + describe());
            }
            return comment;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Every event received so far, including those already taken with {@link #next}. */
    public List<Event> receivedSoFar() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** Every body byte received so far (the head excluded). */
    public byte[] rawBody() {
        synchronized (raw) {
            return raw.toByteArray();
        }
    }

    /** The body received so far as text (the server sends ASCII). */
    public String rawBodyText() {
        return new String(rawBody(), StandardCharsets.UTF_8);
    }

    /** Whether the server ended the stream (end of stream or reset) within {@code timeout}. */
    public boolean awaitClosed(Duration timeout) {
        try {
            return closed.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public boolean isClosed() {
        return closed.getCount() == 0;
    }

    /** The reason the stream ended if it was an error (a reset), or null. */
    public Throwable closeCause() {
        return closeCause;
    }

    /** Vanishes without a goodbye: the socket is closed with a reset (SO_LINGER 0). */
    public void abort() {
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        close();
    }

    @Override
    public void close() {
        closeQuietly(socket);
        if (reader != null) {
            try {
                reader.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private String describe() {
        int bytes;
        synchronized (raw) {
            bytes = raw.size();
        }
        return "status " + status + ", " + received.size() + " events and " + bytes + " bytes received, stream "
                + (isClosed() ? "closed" + (closeCause == null ? "" : " (" + closeCause + ")") : "open");
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
