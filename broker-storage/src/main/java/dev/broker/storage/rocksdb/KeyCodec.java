package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Arrays;

/**
 * Byte layouts of the keys. All numbers are big-endian so that RocksDB's bytewise ordering is numeric ordering.
 *
 * <pre>
 * tenant prefix: [2-byte length of tenant UTF-8][tenant UTF-8]
 * events key:    [tenant prefix][8-byte id]
 * latest key:    [tenant prefix][name UTF-8]
 * users key:     [username UTF-8]
 * meta keys:     "last_id"; "retained/" [tenant prefix] (see {@link Retention})
 * </pre>
 *
 * The length in the tenant prefix keeps tenants apart: tenant "a" never prefix-matches the keys of tenant "ab".
 */
final class KeyCodec {

    static final int MAX_TENANT_BYTES = 0xFFFF;
    static final byte[] LAST_ID_KEY = "last_id".getBytes(UTF_8);
    /** The start of the meta keys that record how far retention has trimmed a tenant's log. */
    static final byte[] RETAINED_KEY_PREFIX = "retained/".getBytes(UTF_8);

    private static final int TENANT_LENGTH_BYTES = 2;
    private static final int ID_BYTES = Long.BYTES;

    private KeyCodec() {
    }

    /** The prefix every events and latest key of the tenant starts with; rejects over-long tenants. */
    static byte[] tenantPrefix(String tenant) {
        byte[] tenantBytes = tenant.getBytes(UTF_8);
        if (tenantBytes.length > MAX_TENANT_BYTES) {
            throw new IllegalArgumentException("tenant longer than " + MAX_TENANT_BYTES + " UTF-8 bytes");
        }
        byte[] prefix = new byte[TENANT_LENGTH_BYTES + tenantBytes.length];
        prefix[0] = (byte) (tenantBytes.length >>> 8);
        prefix[1] = (byte) tenantBytes.length;
        System.arraycopy(tenantBytes, 0, prefix, TENANT_LENGTH_BYTES, tenantBytes.length);
        return prefix;
    }

    static byte[] eventKey(byte[] tenantPrefix, long id) {
        byte[] key = Arrays.copyOf(tenantPrefix, tenantPrefix.length + ID_BYTES);
        putLong(key, tenantPrefix.length, id);
        return key;
    }

    static long idOfEventKey(byte[] eventKey) {
        return getLong(eventKey, eventKey.length - ID_BYTES);
    }

    static byte[] latestKey(byte[] tenantPrefix, byte[] name) {
        byte[] key = Arrays.copyOf(tenantPrefix, tenantPrefix.length + name.length);
        System.arraycopy(name, 0, key, tenantPrefix.length, name.length);
        return key;
    }

    static String nameOfLatestKey(byte[] latestKey, int tenantPrefixLength) {
        return new String(latestKey, tenantPrefixLength, latestKey.length - tenantPrefixLength, UTF_8);
    }

    static byte[] retainedKey(byte[] tenantPrefix) {
        byte[] key = Arrays.copyOf(RETAINED_KEY_PREFIX, RETAINED_KEY_PREFIX.length + tenantPrefix.length);
        System.arraycopy(tenantPrefix, 0, key, RETAINED_KEY_PREFIX.length, tenantPrefix.length);
        return key;
    }

    /** The tenant prefix an events key starts with. */
    static byte[] tenantPrefixOfEventKey(byte[] eventKey) {
        int tenantLength = ((eventKey[0] & 0xFF) << 8) | (eventKey[1] & 0xFF);
        return Arrays.copyOf(eventKey, TENANT_LENGTH_BYTES + tenantLength);
    }

    /** The tenant a tenant prefix names. */
    static String tenantOfPrefix(byte[] tenantPrefix) {
        return new String(tenantPrefix, TENANT_LENGTH_BYTES, tenantPrefix.length - TENANT_LENGTH_BYTES, UTF_8);
    }

    /** A key above every events key of the tenant and below those of the next tenant: to seek past a tenant. */
    static byte[] afterTenant(byte[] tenantPrefix) {
        return eventKey(tenantPrefix, -1L); // all ones: ids are positive, so no key of the tenant reaches it
    }

    static byte[] userKey(String username) {
        return username.getBytes(UTF_8);
    }

    static boolean hasPrefix(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    static byte[] longBytes(long value) {
        byte[] bytes = new byte[Long.BYTES];
        putLong(bytes, 0, value);
        return bytes;
    }

    static long getLong(byte[] bytes, int offset) {
        long value = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            value = (value << 8) | (bytes[offset + i] & 0xFF);
        }
        return value;
    }

    private static void putLong(byte[] bytes, int offset, long value) {
        for (int i = Long.BYTES - 1; i >= 0; i--) {
            bytes[offset + i] = (byte) value;
            value >>>= 8;
        }
    }
}
