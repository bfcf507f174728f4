package dev.broker.server.logging;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.broker.server.http.Exchange;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code --access_log}: one line per request, and per SSE stream when it ends — method, the route's path (never the
 * query string: {@code /sse?access_token=…} carries a JWT; never the client's target either, so a path that is no
 * route is written as {@code -}), status, duration, bytes, client address, route, protocol. To a file (appended) or,
 * with {@code -}, to the log as records of the logger {@value #LOGGER} in the log's own format.
 *
 * <p>The event loops only queue: one thread, {@code broker-access-log}, formats and writes, so that a slow disk never
 * stalls a loop. The queue is bounded ({@link #QUEUE}); when it is full a line is dropped and counted
 * ({@link #dropped()}, a metric) rather than wait.
 */
public final class AccessLog implements AutoCloseable {

    /** The logger of access lines written to the log ({@code --access_log -}). */
    public static final String LOGGER = "dev.broker.server.access";
    /** Lines waiting to be written, at most. */
    static final int QUEUE = 16_384;

    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final JsonFactory JSON_FACTORY = new JsonFactory();
    private static final System.Logger LOG = System.getLogger(LOGGER);
    private static final Exchange STOP = new Exchange("", null, "", 0, 0, 0, null, "", false);

    private final BlockingQueue<Exchange> queue = new ArrayBlockingQueue<>(QUEUE);
    private final LongAdder dropped = new LongAdder();
    private final Writer file;
    private final boolean json;
    private final Thread writer;

    private AccessLog(Writer file, boolean json) {
        this.file = file;
        this.json = json;
        this.writer = new Thread(this::run, "broker-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * The access log the flag asks for: {@code -} is the log, anything else a file (created if missing, appended to).
     *
     * @param format {@link LineFormats#TEXT} or {@link LineFormats#JSON}, for a file
     * @throws UncheckedIOException when the file cannot be opened
     */
    public static AccessLog open(Path target, String format) {
        if (target.toString().equals("-")) {
            return new AccessLog(null, false);
        }
        try {
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Writer out = new BufferedWriter(Files.newBufferedWriter(target, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE), 64 * 1024);
            return new AccessLog(out, LineFormats.JSON.equals(format));
        } catch (IOException e) {
            throw new UncheckedIOException("access log " + target + ": cannot open it: " + e.getMessage(), e);
        }
    }

    /** Queues the exchange for writing; never waits (a full queue drops it). Any thread. */
    public void log(Exchange exchange) {
        if (!queue.offer(exchange)) {
            dropped.increment();
        }
    }

    /** Lines dropped because the writer could not keep up. */
    public long dropped() {
        return dropped.sum();
    }

    private void run() {
        List<Exchange> batch = new ArrayList<>(256);
        try {
            while (true) {
                batch.add(queue.take());
                queue.drainTo(batch, 255);
                for (Exchange exchange : batch) {
                    if (exchange == STOP) {
                        flush();
                        return;
                    }
                    write(exchange);
                }
                batch.clear();
                if (queue.isEmpty()) {
                    flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void write(Exchange exchange) {
        if (file == null) {
            LOG.log(Level.INFO, text(exchange), LogFields.of("request", fields(exchange)));
            return;
        }
        try {
            file.write(json ? json(exchange) : TIMESTAMP.format(Instant.now()) + " " + text(exchange));
            file.write('\n');
        } catch (IOException e) {
            dropped.increment();
        }
    }

    private void flush() {
        if (file != null) {
            try {
                file.flush();
            } catch (IOException e) {
                // counted as dropped lines at the next write that fails; nothing more to do here
            }
        }
    }

    /** {@code client "METHOD path protocol" status bytes duration_ms route}. */
    static String text(Exchange e) {
        return (e.client() == null ? "-" : e.client()) + " \"" + e.method() + " " + (e.path() == null ? "-" : e.path())
                + " " + e.protocol() + "\" " + e.status() + " " + e.bytes() + " " + millis(e) + "ms " + e.route()
                + (e.stream() ? " stream" : "");
    }

    static Object[] fields(Exchange e) {
        return new Object[] {"method", e.method(), "path", e.path() == null ? "-" : e.path(), "route", e.route(),
            "status", e.status(), "duration_ms", millis(e), "bytes", e.bytes(),
            "client", e.client() == null ? "-" : e.client(), "protocol", e.protocol(), "stream", e.stream()};
    }

    static String json(Exchange e) {
        StringWriter out = new StringWriter(200);
        try (JsonGenerator g = JSON_FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("ts", TIMESTAMP.format(Instant.now()));
            g.writeStringField("event", "request");
            Object[] fields = fields(e);
            for (int i = 0; i < fields.length; i += 2) {
                String name = (String) fields[i];
                Object value = fields[i + 1];
                if (value instanceof Number n) {
                    g.writeNumberField(name, n.longValue());
                } else if (value instanceof Boolean b) {
                    g.writeBooleanField(name, b);
                } else {
                    g.writeStringField(name, String.valueOf(value));
                }
            }
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString();
    }

    private static long millis(Exchange e) {
        return TimeUnit.NANOSECONDS.toMillis(e.nanos());
    }

    /** Writes what is queued, then stops the writer and closes the file. */
    @Override
    public void close() {
        try {
            queue.put(STOP);
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                // the lines written so far are flushed; nothing else to do at shutdown
            }
        }
    }
}
