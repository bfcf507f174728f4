package dev.broker.server.auth;

/**
 * An authenticated caller: the user and the tenant whose events they read and write. The operator, acting in a
 * tenant through the admin endpoints, is a principal without a username: no user's revocation concerns it.
 */
public record Principal(String username, String tenant) {

    /** The operator (authenticated by the admin token) acting in {@code tenant}. */
    public static Principal operatorIn(String tenant) {
        return new Principal(null, tenant);
    }

    /** Whether this is the operator rather than a user. */
    public boolean isOperator() {
        return username == null;
    }
}
