package dev.broker.storage.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import org.junit.jupiter.api.Test;

class JetStreamSettingsTest {

    @Test
    void showsServerUrlsWithoutTheirUserAndPassword() {
        JetStreamSettings settings = new JetStreamSettings(
                List.of("nats://alice:s3cr@t@h1:4222", "tls://h2:4222", "nats://token@h3:4222"), 3, "broker", null, null);

        assertEquals("nats://***@h1:4222,tls://h2:4222,nats://***@h3:4222", settings.serversForDisplay());
    }

    @Test
    void masksUrlsQuotedInAnyMessage() {
        String message = JetStreamSettings.masked("Unable to connect to [nats://bob:hunter2@10.0.0.1:4222, "
                + "nats://10.0.0.2:4222]");

        assertEquals("Unable to connect to [nats://***@10.0.0.1:4222, nats://10.0.0.2:4222]", message);
        assertFalse(message.contains("hunter2"));
    }
}
