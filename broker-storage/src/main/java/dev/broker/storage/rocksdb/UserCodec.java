package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.broker.storage.User;
import java.nio.ByteBuffer;

/**
 * Byte layout of the users value (the key is the username, see {@link KeyCodec}).
 *
 * <pre>
 * [1-byte format version = 1]
 * [4-byte length][id UTF-8] [4-byte length][tenant UTF-8] [4-byte length][passwordHash UTF-8]
 * [1-byte revoked: 0 or 1]
 * </pre>
 *
 * The version byte lets a later layout coexist with records already on disk.
 */
final class UserCodec {

    private static final byte FORMAT_VERSION = 1;

    private UserCodec() {
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

    static User decode(String username, byte[] value) {
        ByteBuffer buffer = ByteBuffer.wrap(value);
        byte version = buffer.get();
        if (version != FORMAT_VERSION) {
            throw new IllegalStateException("unknown user record version " + version + " for " + username);
        }
        String id = readString(buffer);
        String tenant = readString(buffer);
        String passwordHash = readString(buffer);
        boolean revoked = buffer.get() != 0;
        return new User(id, username, tenant, passwordHash, revoked);
    }

    private static String readString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getInt()];
        buffer.get(bytes);
        return new String(bytes, UTF_8);
    }
}
