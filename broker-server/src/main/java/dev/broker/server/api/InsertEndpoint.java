package dev.broker.server.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.Json;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.EventLog;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;

/**
 * {@code POST /insert}: validates {@code {"event", "data"}}, re-serialises the data as compact ASCII JSON (the
 * bytes every subscriber will get), appends it to the caller's tenant log and answers once it is durable.
 */
public final class InsertEndpoint implements Endpoint {

    /** Longest event name, in characters. */
    public static final int MAX_EVENT_NAME_LENGTH = 256;

    private final EventLog log;

    public InsertEndpoint(EventLog log) {
        this.log = log;
    }

    /** A validated insert body. */
    record InsertBody(String event, byte[] data) {
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) throws BadRequestException {
        InsertBody body = parse(request.body());
        String tenant = request.principal().tenant();
        ResponseSlot slot = request.slot();
        log.append(tenant, body.event(), body.data()).whenCompleteAsync((event, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, "insert", failure);
                return;
            }
            HttpResponses.object(ctx, slot, g -> {
                g.writeStringField("id", Long.toString(event.id()));
                g.writeStringField("event", event.name());
                g.writeNumberField("timestamp", event.timestamp());
            });
        }, ctx.executor());
    }

    static InsertBody parse(ByteBuf content) throws BadRequestException {
        String event = null;
        byte[] data = null;
        try (JsonParser parser = JsonBody.parser(content)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new BadRequestException("body must be a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "event" -> {
                        if (value != JsonToken.VALUE_STRING) {
                            throw new BadRequestException("field 'event' must be a string");
                        }
                        if (event != null) {
                            throw new BadRequestException("field 'event' appears twice");
                        }
                        event = JsonBody.text("event", parser.getText());
                    }
                    case "data" -> {
                        if (data != null) {
                            throw new BadRequestException("field 'data' appears twice");
                        }
                        data = Json.compactCopyOfCurrentValue(parser);
                    }
                    default -> parser.skipChildren();
                }
            }
            StringFields.requireEnd(parser);
        } catch (Json.MalformedText e) {
            throw JsonBody.loneSurrogate("data");
        } catch (JsonProcessingException e) {
            throw JsonBody.invalid(e);
        } catch (IOException e) {
            throw new BadRequestException("invalid JSON");
        }
        if (event == null) {
            throw new BadRequestException("missing field 'event'");
        }
        if (data == null) {
            throw new BadRequestException("missing field 'data'");
        }
        checkEventName(event);
        return new InsertBody(event, data);
    }

    /** 1–256 characters, no control characters: a newline in the name would break the SSE framing. */
    static void checkEventName(String name) throws BadRequestException {
        int length = name.codePointCount(0, name.length());
        if (length == 0 || length > MAX_EVENT_NAME_LENGTH) {
            throw new BadRequestException("field 'event' must be 1 to " + MAX_EVENT_NAME_LENGTH + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new BadRequestException("field 'event' must not contain control characters");
            }
        }
    }
}
