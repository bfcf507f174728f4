package dev.broker.server.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import dev.broker.server.http.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The checks every JSON body passes before an endpoint reads it, and the errors a client reads when it fails them,
 * in the request's terms: the body must be well-formed UTF-8 (RFC 3629: no overlong forms, no encoded surrogates,
 * nothing above U+10FFFF), its strings may not hold a lone UTF-16 surrogate escape, and a syntax error names its
 * line and column, never the parser's internals.
 */
final class JsonBody {

    private JsonBody() {
    }

    /** A parser over {@code body}, once it is known to be well-formed UTF-8. */
    static JsonParser parser(ByteBuf body) throws BadRequestException, IOException {
        if (!ByteBufUtil.isText(body, StandardCharsets.UTF_8)) {
            throw new BadRequestException("body is not valid UTF-8");
        }
        return Json.parser(body);
    }

    /** The error for a syntax error of the body. */
    static BadRequestException invalid(JsonProcessingException e) {
        String what = e instanceof JsonEOFException ? "the body ends in the middle of a value" : "unexpected input";
        JsonLocation at = e.getLocation();
        if (at != null && at.getLineNr() > 0 && at.getColumnNr() > 0) {
            return new BadRequestException("invalid JSON at line " + at.getLineNr() + ", column " + at.getColumnNr()
                    + ": " + what);
        }
        return new BadRequestException("invalid JSON: " + what);
    }

    /** {@code value}, unless it holds a lone surrogate (which UTF-8 cannot carry: it would turn into '?'). */
    static String text(String field, String value) throws BadRequestException {
        if (!Json.isWellFormed(value)) {
            throw loneSurrogate(field);
        }
        return value;
    }

    static BadRequestException loneSurrogate(String field) {
        return new BadRequestException("field '" + field + "' holds a lone UTF-16 surrogate (\\uD800-\\uDFFF"
                + " without its pair)");
    }
}
