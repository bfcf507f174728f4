package dev.broker.server.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The string (and, where asked, integer) fields of a JSON object body. Fields an endpoint does not ask for are
 * skipped whatever their type; asked-for fields must be of their type and appear at most once.
 */
public final class StringFields {

    private final Map<String, String> values;
    private final Map<String, Long> integers;

    private StringFields(Map<String, String> values, Map<String, Long> integers) {
        this.values = values;
        this.integers = integers;
    }

    /** Parses {@code body} as one JSON object, keeping the named fields. */
    public static StringFields parse(ByteBuf body, Set<String> wanted) throws BadRequestException {
        return parse(body, wanted, Set.of());
    }

    /** Parses {@code body} as one JSON object, keeping the named string fields and the named integer fields. */
    public static StringFields parse(ByteBuf body, Set<String> wanted, Set<String> wantedIntegers)
            throws BadRequestException {
        Map<String, String> values = new HashMap<>();
        Map<String, Long> integers = new HashMap<>();
        try (JsonParser parser = JsonBody.parser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new BadRequestException("body must be a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (wantedIntegers.contains(name)) {
                    if (value != JsonToken.VALUE_NUMBER_INT) {
                        throw new BadRequestException("field '" + name + "' must be an integer");
                    }
                    JsonParser.NumberType type = parser.getNumberType();
                    if (type != JsonParser.NumberType.INT && type != JsonParser.NumberType.LONG) {
                        throw new BadRequestException("field '" + name + "' is out of range");
                    }
                    if (integers.put(name, parser.getLongValue()) != null) {
                        throw new BadRequestException("field '" + name + "' appears twice");
                    }
                    continue;
                }
                if (!wanted.contains(name)) {
                    parser.skipChildren();
                    continue;
                }
                if (value != JsonToken.VALUE_STRING) {
                    throw new BadRequestException("field '" + name + "' must be a string");
                }
                if (values.put(name, JsonBody.text(name, parser.getText())) != null) {
                    throw new BadRequestException("field '" + name + "' appears twice");
                }
            }
            requireEnd(parser);
        } catch (JsonProcessingException e) {
            throw JsonBody.invalid(e);
        } catch (IOException e) {
            throw new BadRequestException("invalid JSON");
        }
        return new StringFields(values, integers);
    }

    /** Fails unless the parser, having closed the root object, finds nothing after it. */
    public static void requireEnd(JsonParser parser) throws IOException, BadRequestException {
        if (parser.currentToken() != JsonToken.END_OBJECT) {
            throw new BadRequestException("invalid JSON");
        }
        if (parser.nextToken() != null) {
            throw new BadRequestException("invalid JSON: content after the object");
        }
    }

    /** The field's value; a missing field is a bad request. */
    public String required(String name) throws BadRequestException {
        String value = values.get(name);
        if (value == null) {
            throw new BadRequestException("missing field '" + name + "'");
        }
        return value;
    }

    /** The string field's value, or null when it is missing. */
    public String optional(String name) {
        return values.get(name);
    }

    /** The integer field's value, or null when it is missing. */
    public Long optionalInteger(String name) {
        return integers.get(name);
    }

    /** The field's value, which must also be non-empty. */
    public String requiredNonEmpty(String name) throws BadRequestException {
        String value = required(name);
        if (value.isEmpty()) {
            throw new BadRequestException("field '" + name + "' must not be empty");
        }
        return value;
    }
}
