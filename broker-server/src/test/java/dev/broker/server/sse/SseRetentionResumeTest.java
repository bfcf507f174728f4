package dev.broker.server.sse;

import static dev.broker.server.testing.SseTestSupport.PROMPTLY;
import static dev.broker.server.testing.SseTestSupport.frame;
import static dev.broker.server.testing.SseTestSupport.insert;
import static dev.broker.server.testing.SseTestSupport.newUser;
import static dev.broker.server.testing.SseTestSupport.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.broker.server.config.Flags;
import dev.broker.server.testing.SseClient;
import dev.broker.server.testing.SseTestSupport.User;
import dev.broker.server.testing.TestBroker;
import dev.broker.storage.rocksdb.RocksStorage;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code Last-Event-ID} from before the history retention removed gets the snapshot, not a replay with a gap;
 * one from within the retained history replays as always.
 */
@Timeout(60)
class SseRetentionResumeTest {

    @TempDir
    Path dir;

    @Test
    void aResumeFromRemovedHistoryGetsTheSnapshot() {
        User user;
        long[] ids = new long[5];
        String[] names = {"a", "b", "a", "c", "a"};
        try (TestBroker broker = TestBroker.start(dir)) {
            user = newUser(broker, "kept");
            for (int i = 0; i < names.length; i++) {
                ids[i] = insert(broker, user, names[i], Integer.toString(i));
            }
        }
        // 31 days later, with a retention of 30 days: the store trims the tenant's history.
        Path db = dir.resolve("db");
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofDays(31)), ZoneOffset.UTC);
        try (RocksStorage storage = RocksStorage.open(db, new RocksStorage.Settings(Duration.ofDays(30), later))) {
            assertEquals(1, storage.trimHistory().join());
            // a:0 and a:2 went (a has a newer event); b:1, c:3, a:4 are the latest and stay.
            assertEquals(ids[2] + 1, storage.events().retainedFrom("kept").join());
        }

        try (TestBroker broker = TestBroker.start(dir, c -> c.with(Flags.RETENTION, Duration.ofDays(30)))) {
            User again = new User(user.username(), user.password(), user.tenant(),
                    broker.login(user.username(), user.password()));
            String snapshot = frame(ids[1], "b", "1") + frame(ids[3], "c", "3") + frame(ids[4], "a", "4");
            try (SseClient stream = subscribe(broker, again, "", "Last-Event-ID", Long.toString(ids[0]))) {
                stream.next(3, PROMPTLY);
                assertEquals(snapshot, stream.rawBodyText(), "the snapshot, not b, c and a after a gap");
            }
            try (SseClient stream = subscribe(broker, again, "?last_event_id=" + ids[2])) {
                List<SseClient.Event> replay = stream.next(2, PROMPTLY);
                assertEquals(List.of(ids[3], ids[4]), replay.stream().map(SseClient.Event::idAsLong).toList());
                assertEquals(frame(ids[3], "c", "3") + frame(ids[4], "a", "4"), stream.rawBodyText());
            }
        }
    }
}
