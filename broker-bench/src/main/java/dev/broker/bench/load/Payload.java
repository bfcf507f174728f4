package dev.broker.bench.load;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The data of every event this tool publishes: {@code {"t":<publish time, epoch µs>,"s":<sequence>,"p":"xx…"}},
 * padded to a fixed size. Compact ASCII JSON, so Broker stores and sends it unchanged, and the subscriber finds
 * the time and sequence at fixed places without a JSON parser.
 */
final class Payload {

    private Payload() {
    }

    static byte[] json(long publishMicros, long seq, int size) {
        String head = "{\"t\":" + publishMicros + ",\"s\":" + seq + ",\"p\":\"";
        int pad = Math.max(0, size - head.length() - 2);
        byte[] out = new byte[head.length() + pad + 2];
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(headBytes, 0, out, 0, headBytes.length);
        Arrays.fill(out, headBytes.length, headBytes.length + pad, (byte) 'x');
        out[out.length - 2] = '"';
        out[out.length - 1] = '}';
        return out;
    }
}
