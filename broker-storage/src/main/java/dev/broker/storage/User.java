package dev.broker.storage;

import java.util.Objects;

/**
 * A Broker user. Usernames are unique across the whole server; each user belongs to exactly one tenant.
 *
 * @param id           a random UUID, assigned at creation
 * @param username     unique, non-empty
 * @param tenant       the tenant the user belongs to
 * @param passwordHash the encoded Argon2id hash (PHC string format); never the password itself
 * @param revoked      whether the user is currently revoked
 */
public record User(String id, String username, String tenant, String passwordHash, boolean revoked) {

    public User {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(passwordHash, "passwordHash");
    }

    public User withRevoked(boolean newRevoked) {
        return new User(id, username, tenant, passwordHash, newRevoked);
    }
}
