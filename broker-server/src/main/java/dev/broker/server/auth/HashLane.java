package dev.broker.server.auth;

/**
 * Which queue a password check waits in. A hashing thread that falls free takes the oldest check of the first lane,
 * and one of the second only when the first is empty; each lane holds a bounded number of checks.
 */
public enum HashLane {
    /** Neither the username nor the client address failed recently: someone who probably knows the password. */
    FIRST,
    /** The username or the address failed recently: served when the first lane leaves room. */
    SECOND
}
