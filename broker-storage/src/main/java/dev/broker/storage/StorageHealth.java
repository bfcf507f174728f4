package dev.broker.storage;

import java.util.Objects;

/**
 * Whether the store can write now.
 *
 * @param writable true while writes can succeed
 * @param reason   why writes cannot succeed, for operators (no user data); "ok" while writable
 */
public record StorageHealth(boolean writable, String reason) {

    public static final StorageHealth WRITABLE = new StorageHealth(true, "ok");

    public StorageHealth {
        Objects.requireNonNull(reason, "reason");
    }

    public static StorageHealth unwritable(String reason) {
        return new StorageHealth(false, reason);
    }
}
