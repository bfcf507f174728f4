package dev.broker.storage.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SubjectTokensTest {

    /** What one NATS subject token and one key-value key may both hold, never empty. */
    private static final Pattern VALID_TOKEN = Pattern.compile("[-_=A-Za-z0-9]+");
    /** Characters that a token may not hold or that once broke encoders: separators, wildcards, escapes. */
    private static final String TRICKY = ".*> \t\r\n_=-%\\/\u0000\u007f\u00a0\u2028";

    @Test
    void encodesReadablyWhatNeedsNoEscape() {
        assertEquals("=acme", SubjectTokens.encode("acme"));
        assertEquals("=acme_2Eio", SubjectTokens.encode("acme.io"));
        assertEquals("=", SubjectTokens.encode(""));
        assertEquals("=_2A_3E_20_5F", SubjectTokens.encode("*> _"));
        assertEquals("=_F0_9F_98_80", SubjectTokens.encode("\uD83D\uDE00"));
    }

    @Test
    void roundTripsRandomStringsIntoValidDistinctTokens() {
        SplittableRandom random = new SplittableRandom(20261203L);
        Map<String, String> seen = new HashMap<>();
        for (int i = 0; i < 50_000; i++) {
            String text = randomText(random);
            String token = SubjectTokens.encode(text);

            assertTrue(VALID_TOKEN.matcher(token).matches(), () -> "invalid token " + token);
            assertEquals(text, SubjectTokens.decode(token));
            String earlier = seen.putIfAbsent(token, text);
            if (earlier != null) {
                assertEquals(earlier, text, "two strings share the token " + token);
            }
        }
    }

    @Test
    void distinctStringsThatLookAlikeGetDistinctTokens() {
        List<String> lookAlikes = List.of("a.b", "a_2Eb", "a=b", "a_b", "a-b", "A.B", "a.b ", "a\u2024b");
        for (int i = 0; i < lookAlikes.size(); i++) {
            for (int j = i + 1; j < lookAlikes.size(); j++) {
                assertNotEquals(SubjectTokens.encode(lookAlikes.get(i)), SubjectTokens.encode(lookAlikes.get(j)));
            }
        }
    }

    @Test
    void decodeRefusesWhatEncodeNeverWrites() {
        for (String bad : List.of("", "acme", "=a.b", "=_2", "=_G0", "=a b", "=\u00e9")) {
            assertThrows(IllegalArgumentException.class, () -> SubjectTokens.decode(bad), bad);
        }
    }

    /** Up to 40 code points: ASCII letters, the tricky characters, BMP text, and supplementary (surrogate pairs). */
    private static String randomText(SplittableRandom random) {
        int length = random.nextInt(41);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            switch (random.nextInt(5)) {
                case 0 -> text.append((char) ('a' + random.nextInt(26)));
                case 1 -> text.append(TRICKY.charAt(random.nextInt(TRICKY.length())));
                case 2 -> text.append((char) (0x20 + random.nextInt(0x5f)));
                case 3 -> text.appendCodePoint(bmpNonSurrogate(random));
                default -> text.appendCodePoint(0x10000 + random.nextInt(0x10FFFF - 0x10000 + 1));
            }
        }
        return text.toString();
    }

    private static int bmpNonSurrogate(SplittableRandom random) {
        while (true) {
            int codePoint = 0x80 + random.nextInt(0x10000 - 0x80);
            if (!Character.isSurrogate((char) codePoint)) {
                return codePoint;
            }
        }
    }
}
