package dev.broker.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.io.IOException;
import java.net.http.HttpHeaders;

/** A finished HTTP exchange, as tests see it. */
public record HttpResult(int status, HttpHeaders headers, String body) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The body parsed as JSON. */
    public JsonNode json() {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("body is not JSON: " + body, e);
        }
    }

    /** The {@code error} field of an error body. */
    public String error() {
        return json().path("error").asText(null);
    }

    public String header(String name) {
        return headers.firstValue(name).orElse(null);
    }
}
