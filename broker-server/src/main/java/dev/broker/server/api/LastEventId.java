package dev.broker.server.api;

/** Parses a {@code Last-Event-ID}: a non-negative decimal integer, or nothing. */
final class LastEventId {

    private LastEventId() {
    }

    /** The id, or null when the value is absent or not a non-negative integer (it is then ignored). */
    static Long parse(String value) {
        if (value == null) {
            return null;
        }
        String trimmed = value.trim();
        if (trimmed.isEmpty() || trimmed.length() > 19) {
            return null;
        }
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        try {
            return Long.parseLong(trimmed);
        } catch (NumberFormatException tooLarge) {
            return null;
        }
    }
}
