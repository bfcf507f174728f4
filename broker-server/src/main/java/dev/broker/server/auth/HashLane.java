package dev.broker.server.auth;

/**
 * Which queue a password check waits in. A hashing thread that falls free takes the oldest check of the first lane,
 * and one of the second only when the first is empty; each lane holds a bounded number of checks.
 */
public enum HashLane {
    /** Neither the username nor the client address failed in the last minute: probably someone who knows it. */
    FIRST,
    /** The username or the address failed in the last minute: served when the first lane is empty. */
    SECOND
}
