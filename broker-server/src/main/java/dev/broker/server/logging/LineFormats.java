package dev.broker.server.logging;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The two formats of {@code --log_format}, as java.util.logging formatters (the server logs through
 * {@code System.Logger}, which the JDK sends to java.util.logging; no logging framework is needed for two formats).
 *
 * <p><b>text</b>: {@code 2026-01-01T12:00:00.000Z INFO dev.broker.server.BrokerServer: message [event name=value]},
 * followed by the exception's stack trace when there is one.
 *
 * <p><b>json</b>: exactly one JSON object per line, with these fields, always in this order: {@code ts} (ISO-8601,
 * UTC, milliseconds), {@code level} ({@code ERROR}, {@code WARNING}, {@code INFO}, {@code DEBUG}, {@code TRACE}),
 * {@code logger}, {@code event} (operator events only), {@code msg}, then the event's own fields, then {@code error}:
 * {@code {"class", "message", "stack"}} for a record with an exception. Exception messages are written as the
 * server logged them: where a failure could quote what a client sent, the server logs it with its messages withheld
 * ({@code http.Redacted}) before it reaches a formatter, so a formatter need not guess.
 */
public final class LineFormats {

    public static final String TEXT = "text";
    public static final String JSON = "json";

    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final JsonFactory JSON_FACTORY = new JsonFactory();

    private LineFormats() {
    }

    /** The formatter of {@code format} ({@link #TEXT} or {@link #JSON}). */
    public static Formatter of(String format) {
        return JSON.equals(format) ? new JsonLines() : new TextLines();
    }

    /**
     * Makes the root logger write every record to standard error in {@code format}, one line each: replaces the
     * root's handlers with one console handler (the JDK's default is a console handler at INFO too).
     */
    public static void install(String format) {
        Logger root = Logger.getLogger("");
        Level level = root.getLevel() == null ? Level.INFO : root.getLevel();
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setLevel(level);
        console.setFormatter(of(format));
        root.addHandler(console);
        KeepHandlersLogManager.keepHandlers();
    }

    /** The level as the server's code names it ({@code System.Logger.Level}). */
    static String levelName(Level level) {
        int value = level.intValue();
        if (value >= Level.SEVERE.intValue()) {
            return "ERROR";
        } else if (value >= Level.WARNING.intValue()) {
            return "WARNING";
        } else if (value >= Level.INFO.intValue()) {
            return "INFO";
        } else if (value >= Level.FINE.intValue()) {
            return "DEBUG";
        }
        return "TRACE";
    }

    static String stackTrace(Throwable thrown) {
        StringWriter trace = new StringWriter();
        thrown.printStackTrace(new PrintWriter(trace));
        return trace.toString();
    }

    /** {@code ts LEVEL logger: message [event fields]}, and the stack trace. */
    static final class TextLines extends Formatter {
        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder(160)
                    .append(TIMESTAMP.format(record.getInstant())).append(' ')
                    .append(levelName(record.getLevel())).append(' ')
                    .append(record.getLoggerName()).append(": ")
                    .append(formatMessage(record));
            LogFields fields = LogFields.of(record);
            // An access line says it all already; its fields are for the JSON format.
            if (fields != null && !AccessLog.LOGGER.equals(record.getLoggerName())) {
                line.append(' ').append(fields);
            }
            line.append(System.lineSeparator());
            if (record.getThrown() != null) {
                line.append(stackTrace(record.getThrown()));
            }
            return line.toString();
        }
    }

    /** One JSON object per line. */
    static final class JsonLines extends Formatter {
        @Override
        public String format(LogRecord record) {
            StringWriter out = new StringWriter(256);
            try (JsonGenerator g = JSON_FACTORY.createGenerator(out)) {
                g.writeStartObject();
                g.writeStringField("ts", TIMESTAMP.format(record.getInstant()));
                g.writeStringField("level", levelName(record.getLevel()));
                g.writeStringField("logger", record.getLoggerName());
                LogFields fields = LogFields.of(record);
                if (fields != null) {
                    g.writeStringField("event", fields.event());
                }
                g.writeStringField("msg", formatMessage(record));
                if (fields != null) {
                    for (Map.Entry<String, Object> field : fields.fields().entrySet()) {
                        writeField(g, field.getKey(), field.getValue());
                    }
                }
                Throwable thrown = record.getThrown();
                if (thrown != null) {
                    g.writeObjectFieldStart("error");
                    g.writeStringField("class", thrown.getClass().getName());
                    g.writeStringField("message", thrown.getMessage());
                    g.writeStringField("stack", stackTrace(thrown));
                    g.writeEndObject();
                }
                g.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException("writing a log line to memory", e);
            }
            return out.append(System.lineSeparator()).toString();
        }

        private static void writeField(JsonGenerator g, String name, Object value) throws IOException {
            if (value == null) {
                g.writeNullField(name);
            } else if (value instanceof Long || value instanceof Integer || value instanceof Short) {
                g.writeNumberField(name, ((Number) value).longValue());
            } else if (value instanceof Double || value instanceof Float) {
                g.writeNumberField(name, ((Number) value).doubleValue());
            } else if (value instanceof Boolean b) {
                g.writeBooleanField(name, b);
            } else if (value instanceof Map<?, ?> map) {
                g.writeObjectFieldStart(name);
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    writeField(g, String.valueOf(entry.getKey()), entry.getValue());
                }
                g.writeEndObject();
            } else {
                g.writeStringField(name, value.toString());
            }
        }
    }
}
