package dev.broker.storage.jetstream;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;

/**
 * A reversible encoding of any string into one NATS subject token that is also a valid key-value key: tenants, event
 * names and usernames may hold {@code .}, {@code *}, {@code >}, spaces and any Unicode, none of which a token may.
 *
 * <p>The token is {@code =} followed by the string's UTF-8 bytes, where ASCII letters, digits and {@code -} stand
 * for themselves and every other byte is written {@code _} and two upper-case hex digits ({@code acme.io} becomes
 * {@code =acme_2Eio}). So tokens use only {@code [-_=A-Za-z0-9]}, stay readable for operators in the common case,
 * are never empty (the empty string is {@code =}), and distinct strings give distinct tokens. The leading
 * {@code =} leaves room for another encoding later. (A string with an unpaired surrogate is not Unicode text; like
 * every UTF-8 store, this one keeps a {@code ?} in its place.)
 */
public final class SubjectTokens {

    private static final char MARK = '=';
    private static final char ESCAPE = '_';
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private SubjectTokens() {
    }

    /** The token for {@code text}. */
    public static String encode(String text) {
        byte[] bytes = text.getBytes(UTF_8);
        StringBuilder token = new StringBuilder(bytes.length + 1).append(MARK);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (isPlain(c)) {
                token.append((char) c);
            } else {
                token.append(ESCAPE).append(HEX[c >>> 4]).append(HEX[c & 0xF]);
            }
        }
        return token.toString();
    }

    /**
     * The string {@code token} encodes.
     *
     * @throws IllegalArgumentException when it is not a token of {@link #encode} (the stream or bucket holds
     *                                  something Broker did not write)
     */
    public static String decode(String token) {
        if (token.isEmpty() || token.charAt(0) != MARK) {
            throw new IllegalArgumentException("not a Broker subject token");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(token.length());
        for (int i = 1; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == ESCAPE) {
                if (i + 2 >= token.length()) {
                    throw new IllegalArgumentException("truncated escape in a Broker subject token");
                }
                int high = Character.digit(token.charAt(i + 1), 16);
                int low = Character.digit(token.charAt(i + 2), 16);
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException("bad escape in a Broker subject token");
                }
                bytes.write(high << 4 | low);
                i += 2;
            } else if (c < 0x80 && isPlain(c)) {
                bytes.write(c);
            } else {
                throw new IllegalArgumentException("bad character in a Broker subject token");
            }
        }
        return bytes.toString(UTF_8);
    }

    private static boolean isPlain(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-';
    }
}
