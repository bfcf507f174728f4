package dev.broker.storage.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * One opening of the database: the {@link RocksDB} and its column family handles. The store replaces it with a new
 * one when it recovers from a failed write; {@link RecoveringDatabase} makes sure nobody uses it once closed. The
 * options it was opened with belong to the store and outlive it.
 */
final class OpenDatabase implements AutoCloseable {

    static final String USERS_COLUMN = "users";
    static final String EVENTS_COLUMN = "events";
    static final String LATEST_COLUMN = "latest";
    static final String META_COLUMN = "meta";
    /** Opened in this order, so handle i belongs to name i. */
    private static final List<byte[]> REQUIRED_COLUMNS = List.of(RocksDB.DEFAULT_COLUMN_FAMILY,
            USERS_COLUMN.getBytes(UTF_8), EVENTS_COLUMN.getBytes(UTF_8), LATEST_COLUMN.getBytes(UTF_8),
            META_COLUMN.getBytes(UTF_8));

    private final RocksDB db;
    /** Every opened handle, including default and any column family this version does not know. */
    private final List<ColumnFamilyHandle> handles;

    private OpenDatabase(RocksDB db, List<ColumnFamilyHandle> handles) {
        this.db = db;
        this.handles = handles;
    }

    /**
     * Opens the database in {@code directory}: the required column families first (missing ones are created by
     * create_missing_column_families), then any other the database already has, since RocksDB refuses to open a
     * database without all of its column families.
     */
    static OpenDatabase open(Path directory, DBOptions dbOptions, ColumnFamilyOptions columnFamilyOptions)
            throws RocksDBException {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (byte[] name : columnFamiliesToOpen(directory)) {
            descriptors.add(new ColumnFamilyDescriptor(name, columnFamilyOptions));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        RocksDB db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
        return new OpenDatabase(db, List.copyOf(handles));
    }

    private static List<byte[]> columnFamiliesToOpen(Path directory) throws RocksDBException {
        List<byte[]> names = new ArrayList<>(REQUIRED_COLUMNS);
        // listColumnFamilies fails on a directory without a database; any other failure must surface.
        if (Files.exists(directory.resolve("CURRENT"))) {
            try (Options options = new Options()) {
                for (byte[] existing : RocksDB.listColumnFamilies(options, directory.toString())) {
                    if (names.stream().noneMatch(name -> Arrays.equals(name, existing))) {
                        names.add(existing);
                    }
                }
            }
        }
        return names;
    }

    RocksDB db() {
        return db;
    }

    ColumnFamilyHandle usersColumn() {
        return handles.get(1);
    }

    ColumnFamilyHandle eventsColumn() {
        return handles.get(2);
    }

    ColumnFamilyHandle latestColumn() {
        return handles.get(3);
    }

    ColumnFamilyHandle metaColumn() {
        return handles.get(4);
    }

    /** Handles before the database that owns them. The database is released even when closing reports an error. */
    @Override
    public void close() throws RocksDBException {
        handles.forEach(ColumnFamilyHandle::close);
        db.closeE();
    }
}
