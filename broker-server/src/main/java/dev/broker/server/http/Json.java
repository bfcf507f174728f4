package dev.broker.server.http;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Streaming JSON (jackson-core) for bodies. Everything Broker writes is ASCII: non-ASCII characters are escaped as
 * {@code \}{@code uXXXX}, which keeps SSE data lines readable by clients that decode the stream byte by byte.
 */
public final class Json {

    /** Writes JSON tokens into a generator. */
    @FunctionalInterface
    public interface Writer {
        void write(JsonGenerator generator) throws IOException;
    }

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();

    private Json() {
    }

    /** Writes a document into a new buffer from {@code alloc}. */
    public static ByteBuf write(ByteBufAllocator alloc, Writer writer) {
        ByteBuf buf = alloc.buffer(128);
        try (JsonGenerator generator = FACTORY.createGenerator((java.io.OutputStream) new ByteBufOutputStream(buf), JsonEncoding.UTF8)) {
            writer.write(generator);
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        return buf;
    }

    /** A string that is not well-formed UTF-16 (a lone surrogate), which UTF-8 cannot carry. */
    public static final class MalformedText extends IOException {
        public MalformedText() {
            super("a string holds a lone UTF-16 surrogate", null);
        }
    }

    /** Whether every surrogate in {@code text} is half of a pair. */
    public static boolean isWellFormed(CharSequence text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isWellFormed(char[] chars, int offset, int length) {
        return isWellFormed(java.nio.CharBuffer.wrap(chars, offset, length));
    }

    /** A parser over the readable bytes of {@code body} (which it does not consume or release). */
    public static JsonParser parser(ByteBuf body) throws IOException {
        return FACTORY.createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()));
    }

    /**
     * Re-serialises the value at the parser's current token as compact, ASCII-only JSON. Numbers keep their exact
     * text (no round trip through double), so what a client sent is what subscribers get, less the whitespace.
     *
     * @throws MalformedText when a string or field name holds a lone surrogate
     */
    public static byte[] compactCopyOfCurrentValue(JsonParser parser) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        try (JsonGenerator generator = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
            copyValue(parser, generator);
        }
        return out.toByteArray();
    }

    private static void copyValue(JsonParser parser, JsonGenerator generator) throws IOException {
        int depth = 0;
        do {
            JsonToken token = parser.currentToken();
            switch (token) {
                case START_OBJECT -> {
                    generator.writeStartObject();
                    depth++;
                }
                case START_ARRAY -> {
                    generator.writeStartArray();
                    depth++;
                }
                case END_OBJECT -> {
                    generator.writeEndObject();
                    depth--;
                }
                case END_ARRAY -> {
                    generator.writeEndArray();
                    depth--;
                }
                case FIELD_NAME -> {
                    if (!isWellFormed(parser.currentName())) {
                        throw new MalformedText();
                    }
                    generator.writeFieldName(parser.currentName());
                }
                case VALUE_STRING -> {
                    if (!isWellFormed(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength())) {
                        throw new MalformedText();
                    }
                    generator.writeString(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
                }
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> generator.writeNumber(parser.getText());
                case VALUE_TRUE -> generator.writeBoolean(true);
                case VALUE_FALSE -> generator.writeBoolean(false);
                case VALUE_NULL -> generator.writeNull();
                default -> throw new IOException("unexpected JSON token " + token);
            }
        } while (depth > 0 && parser.nextToken() != null);
        if (depth != 0) {
            throw new IOException("unexpected end of JSON");
        }
    }
}
