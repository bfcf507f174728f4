package dev.broker.storage.jetstream;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.User;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * A user as a value of the users bucket (the key is {@link SubjectTokens#encode} of the username).
 *
 * <pre>
 * [1-byte format version = 1]
 * [4-byte length][id UTF-8] [4-byte length][tenant UTF-8] [4-byte length][passwordHash UTF-8]
 * [1-byte revoked: 0 or 1]
 * </pre>
 *
 * The layout of the embedded store's users, so that one reader of dumps serves both; the version byte lets a later
 * layout coexist with values already stored.
 */
final class UserRecords {

    private static final byte FORMAT_VERSION = 1;

    private UserRecords() {
    }

    static byte[] encode(User user) {
        byte[] id = user.id().getBytes(UTF_8);
        byte[] tenant = user.tenant().getBytes(UTF_8);
        byte[] passwordHash = user.passwordHash().getBytes(UTF_8);
        return ByteBuffer.allocate(1 + 3 * Integer.BYTES + id.length + tenant.length + passwordHash.length + 1)
                .put(FORMAT_VERSION)
                .putInt(id.length).put(id)
                .putInt(tenant.length).put(tenant)
                .putInt(passwordHash.length).put(passwordHash)
                .put((byte) (user.revoked() ? 1 : 0))
                .array();
    }

    /** @throws IllegalArgumentException when the value is not one Broker wrote */
    static User decode(String username, byte[] value) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(value);
            byte version = buffer.get();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unknown user record version " + version);
            }
            String id = readString(buffer);
            String tenant = readString(buffer);
            String passwordHash = readString(buffer);
            boolean revoked = buffer.get() != 0;
            return new User(id, username, tenant, passwordHash, revoked);
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException("truncated user record", e);
        }
    }

    private static String readString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getInt()];
        buffer.get(bytes);
        return new String(bytes, UTF_8);
    }
}
