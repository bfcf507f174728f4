package dev.broker.server.logging;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The structured part of an operator event: its stable name and its fields, in order. Travels as the last parameter
 * of a log record (the message pattern never refers to it), so that every formatter can find it and a formatter
 * that does not know it loses nothing but the fields.
 *
 * @param event  a stable name such as {@code slow_consumers_closed}
 * @param fields names to values (numbers, booleans, strings; never anything a client sent)
 */
public record LogFields(String event, Map<String, Object> fields) {

    /** The fields from {@code name, value, name, value, …}. */
    public static LogFields of(String event, Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values come in pairs");
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            fields.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return new LogFields(event, Collections.unmodifiableMap(fields));
    }

    /** The fields of a record, or null when it has none. */
    static LogFields of(java.util.logging.LogRecord record) {
        Object[] parameters = record.getParameters();
        if (parameters != null && parameters.length > 0 && parameters[parameters.length - 1] instanceof LogFields f) {
            return f;
        }
        return null;
    }

    /** {@code [event name=value …]}, for the text format. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[").append(event);
        fields.forEach((name, value) -> b.append(' ').append(name).append('=').append(value));
        return b.append(']').toString();
    }
}
