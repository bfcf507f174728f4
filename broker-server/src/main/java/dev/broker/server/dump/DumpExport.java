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

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import dev.broker.storage.Event;
import dev.broker.storage.Storage;
import dev.broker.storage.User;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes a store as a dump: users a page at a time, then events a page at a time in id order. */
public final class DumpExport {

    /** Users read per page. */
    static final int USERS_PER_PAGE = 1000;
    /** Events read per page, and the data bytes a page holds at most (plus one event's). */
    static final int EVENTS_PER_PAGE = 10_000;
    static final long PAGE_DATA_BYTES = 16L << 20;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII) // an ASCII file survives any transport
            .build();

    private DumpExport() {
    }

    /** Writes the whole of {@code storage} to {@code out} (not closed; flushed at the end). */
    public static DumpCounts export(Storage storage, OutputStream out) throws IOException {
        long users = 0;
        long events = 0;
        try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.setRootValueSeparator(null);
            g.writeStartObject();
            g.writeStringField(FORMAT, FORMAT_NAME);
            g.writeNumberField(VERSION, CURRENT_VERSION);
            g.writeEndObject();
            g.writeRaw('\n');

            String after = null;
            List<User> page;
            do {
                page = storage.users().list(after, USERS_PER_PAGE).join();
                for (User user : page) {
                    g.writeStartObject();
                    g.writeStringField(TYPE, USER);
                    g.writeStringField(ID, user.id());
                    g.writeStringField(USERNAME, user.username());
                    g.writeStringField(TENANT, user.tenant());
                    g.writeStringField(PASSWORD_HASH, user.passwordHash());
                    g.writeBooleanField(REVOKED, user.revoked());
                    g.writeEndObject();
                    g.writeRaw('\n');
                    users++;
                    after = user.username();
                }
            } while (page.size() == USERS_PER_PAGE);

            long afterId = 0;
            List<Event> eventPage;
            do {
                eventPage = storage.events().scan(afterId, EVENTS_PER_PAGE, PAGE_DATA_BYTES).join();
                for (Event event : eventPage) {
                    g.writeStartObject();
                    g.writeStringField(TYPE, EVENT);
                    g.writeNumberField(ID, event.id());
                    g.writeStringField(TENANT, event.tenant());
                    g.writeStringField(NAME, event.name());
                    g.writeNumberField(TIMESTAMP, event.timestamp());
                    g.writeFieldName(DATA);
                    g.writeRawValue(new String(event.data(), StandardCharsets.UTF_8)); // stored as compact JSON
                    g.writeEndObject();
                    g.writeRaw('\n');
                    events++;
                    afterId = event.id();
                }
            } while (!eventPage.isEmpty());

            g.writeStartObject();
            g.writeStringField(TYPE, END);
            g.writeNumberField(USERS, users);
            g.writeNumberField(EVENTS, events);
            g.writeEndObject();
            g.writeRaw('\n');
        }
        out.flush();
        return new DumpCounts(users, events);
    }
}
