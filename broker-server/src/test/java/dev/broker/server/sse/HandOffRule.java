package dev.broker.server.sse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The ids the package's hand-off rule promises a new stream, for the tests that check streams against it. */
final class HandOffRule {

    private HandOffRule() {
    }

    /**
     * The ids of a stream that started from the snapshot as of id {@code m}: the latest event of every name up to
     * {@code m}, in ascending id order, then every later id. {@code all} maps each of the tenant's ids to its name.
     */
    static List<Long> snapshotThenLive(TreeMap<Long, String> all, long m) {
        Map<String, Long> latest = new HashMap<>();
        all.headMap(m, true).forEach((id, name) -> latest.put(name, id));
        List<Long> ids = new ArrayList<>(latest.values());
        ids.sort(null);
        ids.addAll(all.tailMap(m, false).keySet());
        return ids;
    }
}
