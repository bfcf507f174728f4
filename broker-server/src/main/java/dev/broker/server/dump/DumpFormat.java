package dev.broker.server.dump;

/** The names and version of the dump's JSON lines (see the package description). */
final class DumpFormat {

    static final String FORMAT = "format";
    static final String FORMAT_NAME = "broker-dump";
    static final String VERSION = "version";
    static final int CURRENT_VERSION = 1;

    static final String TYPE = "type";
    static final String USER = "user";
    static final String EVENT = "event";
    static final String END = "end";

    static final String ID = "id";
    static final String USERNAME = "username";
    static final String TENANT = "tenant";
    static final String PASSWORD_HASH = "password_hash";
    static final String REVOKED = "revoked";
    static final String NAME = "name";
    static final String TIMESTAMP = "timestamp";
    static final String DATA = "data";
    static final String USERS = "users";
    static final String EVENTS = "events";

    private DumpFormat() {
    }
}
