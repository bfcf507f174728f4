package dev.broker.storage.jetstream;

import dev.broker.storage.StorageUnavailableException;
import io.nats.client.ConsumerContext;
import io.nats.client.FetchConsumeOptions;
import io.nats.client.FetchConsumer;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamStatusCheckedException;
import io.nats.client.Message;
import io.nats.client.StreamContext;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import java.io.IOException;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * One-shot reads of a stream through a short-lived ephemeral consumer: one request creates it (its answer counts
 * the messages pending), fetches in batches read exactly that many (so a read is a snapshot as of its start even
 * while writes go on), and a delete request, not waited for, removes it. Blocking: runs on {@link BlockingCalls}.
 */
final class ConsumerReads {

    private static final int FETCH_BATCH = 256;
    private static final Duration FETCH_WAIT = Duration.ofSeconds(5);
    /** A consumer the delete request missed goes away by itself after this long. */
    private static final Duration INACTIVITY = Duration.ofSeconds(30);

    /** What a read does with each message: false ends the read after it. */
    @FunctionalInterface
    interface Sink {
        boolean accept(Message message);
    }

    private final BiConsumer<String, String> deleteConsumer;

    /** @param deleteConsumer sends a delete request for (stream, consumer) without waiting for the answer */
    ConsumerReads(BiConsumer<String, String> deleteConsumer) {
        this.deleteConsumer = deleteConsumer;
    }

    /** A read consumer's configuration: no acks, in memory, one replica. */
    static ConsumerConfiguration.Builder consumer(String filterSubject) {
        return ConsumerConfiguration.builder()
                .filterSubject(filterSubject)
                .ackPolicy(AckPolicy.None)
                .memStorage(true)
                .numReplicas(1)
                .inactiveThreshold(INACTIVITY);
    }

    /**
     * Reads at most {@code limit} of the messages the consumer counted as pending at creation.
     *
     * @throws StorageUnavailableException when JetStream stops delivering before the read is done
     */
    void read(StreamContext stream, ConsumerConfiguration config, long limit, Sink sink)
            throws IOException, JetStreamApiException, InterruptedException {
        ConsumerContext consumer = stream.createOrUpdateConsumer(config);
        try {
            long toRead = Math.min(limit, consumer.getCachedConsumerInfo().getNumPending());
            long read = 0;
            while (read < toRead) {
                int batch = (int) Math.min(toRead - read, FETCH_BATCH);
                FetchConsumeOptions options = FetchConsumeOptions.builder()
                        .maxMessages(batch).expiresIn(FETCH_WAIT.toMillis()).build();
                int received = 0;
                try (FetchConsumer fetch = consumer.fetch(options)) {
                    Message message;
                    while ((message = fetch.nextMessage()) != null) {
                        received++;
                        read++;
                        if (!sink.accept(message)) {
                            return;
                        }
                    }
                } catch (JetStreamStatusCheckedException e) {
                    throw new StorageUnavailableException("read: JetStream ended the read early", e);
                } catch (IOException | JetStreamApiException | InterruptedException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    // FetchConsumer.close() is declared to throw Exception
                    throw new StorageUnavailableException("read: " + e.getClass().getSimpleName(), e);
                }
                if (received == 0) {
                    throw new StorageUnavailableException("read: JetStream delivered nothing within "
                            + FETCH_WAIT.toSeconds() + " s");
                }
            }
        } finally {
            deleteConsumer.accept(stream.getStreamName(), consumer.getConsumerName());
        }
    }
}
