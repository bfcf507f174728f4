package dev.broker.server.dump;

import static dev.broker.server.dump.DumpFormat.CURRENT_VERSION;
import static dev.broker.server.dump.DumpFormat.DATA;
import static dev.broker.server.dump.DumpFormat.END;
import static dev.broker.server.dump.DumpFormat.EVENT;
import static dev.broker.server.dump.DumpFormat.EVENTS;
import static dev.broker.server.dump.DumpFormat.FORMAT;
import static dev.broker.server.dump.DumpFormat.FORMAT_NAME;
import static dev.broker.server.dump.DumpFormat.ID;
import static dev.broker.server.dump.DumpFormat.NAME;
import static dev.broker.server.dump.DumpFormat.PASSWORD_HASH;
import static dev.broker.server.dump.DumpFormat.REVOKED;
import static dev.broker.server.dump.DumpFormat.TENANT;
import static dev.broker.server.dump.DumpFormat.TIMESTAMP;
import static dev.broker.server.dump.DumpFormat.TYPE;
import static dev.broker.server.dump.DumpFormat.USER;
import static dev.broker.server.dump.DumpFormat.USERNAME;
import static dev.broker.server.dump.DumpFormat.USERS;
import static dev.broker.server.dump.DumpFormat.VERSION;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.broker.server.http.Json;
import dev.broker.storage.Event;
import dev.broker.storage.Storage;
import dev.broker.storage.User;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Reads a dump into an empty store: users as they come, events appended in the dump's order with a bounded number
 * in flight (the store group-commits them), each keeping its timestamp where the store can. Every line is checked
 * before it is stored; the first bad one stops the import with its line number.
 */
public final class DumpImport {

    /** Appends in flight at most, and the data bytes they hold at most: bounded memory, yet full batches. */
    static final int MAX_APPENDS_IN_FLIGHT = 1024;
    static final long MAX_BYTES_IN_FLIGHT = 64L << 20;

    private static final JsonFactory FACTORY = new JsonFactory();

    /** An append under way, with the data bytes it holds. */
    private record InFlight(CompletableFuture<Event> append, int bytes, long line) {
    }

    private final Storage storage;
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private long bytesInFlight;
    private long lastId;
    private long users;
    private long events;

    private DumpImport(Storage storage) {
        this.storage = storage;
    }

    /**
     * Imports the dump read from {@code in} into {@code storage}, which must hold no user and no event.
     *
     * @throws DumpException for a store that is not empty, a line that is not what the format says (with its
     *                       number), a dump without its end line or with other counts, or a failed write
     */
    public static DumpCounts importInto(Storage storage, BufferedReader in) throws IOException {
        if (storage.events().lastIssuedId().join() > 0 || !storage.users().list(null, 1).join().isEmpty()) {
            throw new DumpException("the target store is not empty (it holds users or events); import only into a new"
                    + " database: point --db at a new or empty directory");
        }
        return new DumpImport(storage).run(in);
    }

    private DumpCounts run(BufferedReader in) throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new DumpException("the dump is empty: expected a header line " + header());
        }
        readHeader(line);
        long number = 1;
        Map<String, Object> end = null;
        while ((line = in.readLine()) != null) {
            number++;
            if (end != null) {
                throw new DumpException("line " + number + ": nothing may follow the end line");
            }
            if (line.isBlank()) {
                continue;
            }
            try {
                Map<String, Object> fields = readLine(line, number);
                Object type = fields.get(TYPE);
                if (USER.equals(type)) {
                    importUser(fields, number);
                } else if (EVENT.equals(type)) {
                    importEvent(fields, number);
                } else if (END.equals(type)) {
                    end = fields;
                } else {
                    throw new DumpException("line " + number + ": field 'type' must be \"user\", \"event\" or \"end\"");
                }
            } catch (DumpException e) {
                drainQuietly();
                throw e;
            }
        }
        drain(0);
        if (end == null) {
            throw new DumpException("the dump ends without its end line after line " + number
                    + ": it is truncated; what it held was imported, the rest is missing");
        }
        long expectedUsers = number(end, USERS, number);
        long expectedEvents = number(end, EVENTS, number);
        if (expectedUsers != users || expectedEvents != events) {
            throw new DumpException("the end line counts " + expectedUsers + " users and " + expectedEvents
                    + " events, but the dump held " + users + " and " + events);
        }
        return new DumpCounts(users, events);
    }

    private static String header() {
        return "{\"" + FORMAT + "\":\"" + FORMAT_NAME + "\",\"" + VERSION + "\":" + CURRENT_VERSION + "}";
    }

    private static void readHeader(String line) throws IOException {
        Map<String, Object> fields;
        try {
            fields = readLine(line, 1);
        } catch (DumpException e) {
            throw new DumpException("line 1: not a Broker dump: expected the header " + header());
        }
        if (!FORMAT_NAME.equals(fields.get(FORMAT))) {
            throw new DumpException("line 1: not a Broker dump: expected the header " + header());
        }
        if (!(fields.get(VERSION) instanceof Long version)) {
            throw new DumpException("line 1: field 'version' must be an integer");
        }
        if (version != CURRENT_VERSION) {
            throw new DumpException("line 1: dump format version " + version + " is not supported (this Broker"
                    + " reads version " + CURRENT_VERSION + ")");
        }
    }

    /**
     * The fields of one line: strings, longs, booleans, and the data as compact JSON bytes. A field given twice,
     * anything but an object, or trailing content is an error.
     */
    private static Map<String, Object> readLine(String line, long number) throws IOException {
        Map<String, Object> fields = new HashMap<>();
        try (JsonParser parser = FACTORY.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new DumpException("line " + number + ": not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken token = parser.nextToken();
                Object value;
                if (field.equals(DATA)) {
                    value = Json.compactCopyOfCurrentValue(parser);
                } else {
                    value = switch (token) {
                        case VALUE_STRING -> parser.getText();
                        case VALUE_NUMBER_INT -> {
                            try {
                                yield parser.getLongValue();
                            } catch (JsonProcessingException tooLarge) {
                                throw new DumpException("line " + number + ": field '" + shortName(field)
                                        + "' is out of range");
                            }
                        }
                        case VALUE_TRUE -> Boolean.TRUE;
                        case VALUE_FALSE -> Boolean.FALSE;
                        default -> {
                            parser.skipChildren();
                            yield token; // judged where the field is used
                        }
                    };
                }
                if (fields.put(field, value) != null) {
                    throw new DumpException("line " + number + ": field '" + shortName(field) + "' appears twice");
                }
            }
            if (parser.nextToken() != null) {
                throw new DumpException("line " + number + ": content after the JSON object");
            }
        } catch (Json.MalformedText e) {
            throw new DumpException("line " + number + ": a string holds a lone UTF-16 surrogate");
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the input; only where it broke is told.
            throw new DumpException("line " + number + ": invalid JSON at column "
                    + e.getLocation().getColumnNr());
        }
        return fields;
    }

    /** A field name of the dump is short; an unknown one is cut, as it may be anything. */
    private static String shortName(String field) {
        return field.length() <= 32 && field.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? field : "?";
    }

    private void importUser(Map<String, Object> fields, long number) {
        User user = new User(string(fields, ID, number), string(fields, USERNAME, number),
                string(fields, TENANT, number), string(fields, PASSWORD_HASH, number),
                bool(fields, REVOKED, number));
        boolean created;
        try {
            created = storage.users().create(user).join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new DumpException("line " + number + ": storing the user failed: " + cause.getMessage(), cause);
        }
        if (!created) {
            throw new DumpException("line " + number + ": the username appears twice in the dump");
        }
        users++;
    }

    private void importEvent(Map<String, Object> fields, long number) {
        String tenant = string(fields, TENANT, number);
        String name = string(fields, NAME, number);
        long timestamp = number(fields, TIMESTAMP, number);
        number(fields, ID, number); // present, as the format says; the store assigns a new one
        if (!(fields.get(DATA) instanceof byte[] data)) {
            throw new DumpException("line " + number + ": missing field 'data'");
        }
        if (name.length() > 256 || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new DumpException("line " + number + ": field 'name' must be 1 to 256 characters without control"
                    + " characters");
        }
        drain(MAX_APPENDS_IN_FLIGHT - 1);
        while (!inFlight.isEmpty() && bytesInFlight + data.length > MAX_BYTES_IN_FLIGHT) {
            completeOldest();
        }
        // Appends are queued in call order and take their ids in that order: the latest of every name stays so.
        inFlight.add(new InFlight(storage.events().appendAt(tenant, name, data, timestamp), data.length, number));
        bytesInFlight += data.length;
        events++;
    }

    /** Waits until at most {@code most} appends are in flight. */
    private void drain(int most) {
        while (inFlight.size() > most) {
            completeOldest();
        }
    }

    private void completeOldest() {
        InFlight oldest = inFlight.poll();
        bytesInFlight -= oldest.bytes();
        Event stored;
        try {
            stored = oldest.append().join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new DumpException("line " + oldest.line() + ": storing the event failed: " + cause.getMessage()
                    + "; the lines before it were imported", cause);
        }
        if (stored.id() <= lastId) {
            throw new DumpException("line " + oldest.line() + ": the store reordered concurrent appends (id "
                    + stored.id() + " after " + lastId + "); this backend cannot import in order");
        }
        lastId = stored.id();
    }

    private void drainQuietly() {
        for (InFlight each : inFlight) {
            each.append().exceptionally(failure -> null).join();
        }
        inFlight.clear();
    }

    private static String string(Map<String, Object> fields, String field, long number) {
        Object value = fields.get(field);
        if (!(value instanceof String text)) {
            throw new DumpException("line " + number + ": " + (value == null ? "missing field '" + field + "'"
                    : "field '" + field + "' must be a string"));
        }
        if (text.isEmpty()) {
            throw new DumpException("line " + number + ": field '" + field + "' must not be empty");
        }
        return text;
    }

    private static long number(Map<String, Object> fields, String field, long number) {
        Object value = fields.get(field);
        if (!(value instanceof Long integer)) {
            throw new DumpException("line " + number + ": " + (value == null ? "missing field '" + field + "'"
                    : "field '" + field + "' must be an integer"));
        }
        return integer;
    }

    private static boolean bool(Map<String, Object> fields, String field, long number) {
        Object value = fields.get(field);
        if (!(value instanceof Boolean flag)) {
            throw new DumpException("line " + number + ": " + (value == null ? "missing field '" + field + "'"
                    : "field '" + field + "' must be true or false"));
        }
        return flag;
    }
}
