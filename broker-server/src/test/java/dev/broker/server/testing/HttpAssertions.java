package dev.broker.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/** Assertions on the conventions every response of the contract follows. */
public final class HttpAssertions {

    private HttpAssertions() {
    }

    /**
     * Asserts the status and the contract's error body, {@code {"error": "<non-empty string>"}} and nothing else,
     * and that the response carries {@code Access-Control-Allow-Origin}. Returns the reason.
     */
    public static String assertError(int expectedStatus, HttpResult result) {
        return assertError(expectedStatus, result, "");
    }

    /** As {@link #assertError(int, HttpResult)}, with a description of the request for the failure message. */
    public static String assertError(int expectedStatus, HttpResult result, String what) {
        String context = (what.isEmpty() ? "" : what + ": ") + result.status() + " " + result.body();
        assertEquals(expectedStatus, result.status(), context);
        JsonNode body = result.json();
        assertTrue(body.isObject(), "error body must be a JSON object: " + context);
        assertEquals(Set.of("error"), fieldNames(body), "error body must hold exactly 'error': " + context);
        assertTrue(body.get("error").isTextual(), "'error' must be a string: " + context);
        assertFalse(body.get("error").asText().isBlank(), "'error' must not be empty: " + context);
        assertNotNull(result.header("Access-Control-Allow-Origin"), "no Access-Control-Allow-Origin: " + context);
        return body.get("error").asText();
    }

    /** Asserts a 200 whose body is a JSON object, and returns it. */
    public static JsonNode assertOkObject(HttpResult result) {
        assertEquals(200, result.status(), () -> result.status() + " " + result.body());
        JsonNode body = result.json();
        assertTrue(body.isObject(), () -> "expected a JSON object: " + result.body());
        return body;
    }

    public static Set<String> fieldNames(JsonNode object) {
        Set<String> names = new java.util.TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The comma-separated tokens of a header value, lower-cased (header names and methods compare that way). */
    public static Set<String> tokens(String headerValue) {
        assertNotNull(headerValue, "header missing");
        return Arrays.stream(headerValue.split(","))
                .map(String::trim)
                .map(s -> s.toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
    }
}
