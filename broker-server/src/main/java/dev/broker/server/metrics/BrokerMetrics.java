package dev.broker.server.metrics;

import dev.broker.storage.CommitObserver;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The server's Prometheus metrics: one registry of its own (not the client's global default, so that servers in one
 * JVM do not mix), the JVM's metrics, and the server's own. Most of the server's figures are counted where they
 * happen, with plain {@code LongAdder}s that know nothing of Prometheus, and only read here at scrape time through
 * {@link #counter}/{@link #gauge} callbacks; what is measured here directly — group-commit latency and batch sizes,
 * responses by route and status — is recorded through the client's own lock-free types. No metric has a label per
 * user, tenant or address.
 */
public final class BrokerMetrics implements CommitObserver {

    /** The Prometheus text format, version 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** Group-commit latency buckets, in seconds: an fsync takes from about 100 µs (NVMe) to tens of ms (disks). */
    private static final double[] COMMIT_SECONDS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    /** Batch size buckets: powers of two up to the writer's largest batch (4096). */
    private static final double[] BATCH_SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
    /** Statuses above this are not counted by code (there are none; it bounds the table). */
    private static final int MAX_STATUS = 599;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = new PrometheusTextFormatWriter(false);
    private final Histogram commitSeconds;
    private final Histogram commitBatchSize;
    private final Counter responses;
    private final Counter inserts;
    /** Statuses that mean a limit was hit, counted apart for the operator log: 408, 413, 429, 503. */
    private final LongAdder[] limitStatuses = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
    /** Route label to its data points by status: looked up without building a label list per response. */
    private final ConcurrentHashMap<String, AtomicReferenceArray<CounterDataPoint>> responsesByRoute =
            new ConcurrentHashMap<>();

    public BrokerMetrics() {
        JvmMetrics.builder().register(registry);
        commitSeconds = Histogram.builder()
                .name("broker_store_commit_seconds")
                .help("Time to write and sync one group-commit batch of inserts")
                .classicOnly()
                .classicUpperBounds(COMMIT_SECONDS)
                .withoutExemplars()
                .register(registry);
        commitBatchSize = Histogram.builder()
                .name("broker_store_commit_batch_size")
                .help("Inserts made durable by one group-commit batch")
                .classicOnly()
                .classicUpperBounds(BATCH_SIZES)
                .withoutExemplars()
                .register(registry);
        inserts = Counter.builder()
                .name("broker_inserts_total")
                .help("Inserts made durable (acknowledged with 200 once published)")
                .withoutExemplars()
                .register(registry);
        responses = Counter.builder()
                .name("broker_http_responses_total")
                .help("Responses by route (a route name, or none for unknown paths and malformed requests) and"
                        + " status code; an SSE stream counts once, with its head")
                .labelNames("route", "code")
                // No exemplars: there is no tracing to link to, and sampling them costs on every response.
                .withoutExemplars()
                .register(registry);
    }

    /** Registers a counter read at scrape time; {@code name} ends in {@code _total}. */
    public void counter(String name, String help, DoubleSupplier value) {
        CounterWithCallback.builder().name(name).help(help)
                .callback(callback -> callback.call(value.getAsDouble()))
                .register(registry);
    }

    /** Registers a counter with one label, a value per label value, read at scrape time. */
    public <K> void counter(String name, String help, String label, Map<String, K> byLabel,
                            ToDoubleFunction<K> value) {
        Map<String, K> fixed = Map.copyOf(byLabel);
        CounterWithCallback.builder().name(name).help(help).labelNames(label)
                .callback(callback -> fixed.forEach((labelValue, key) ->
                        callback.call(value.applyAsDouble(key), labelValue)))
                .register(registry);
    }

    /** Registers a gauge read at scrape time. */
    public void gauge(String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help)
                .callback(callback -> callback.call(value.getAsDouble()))
                .register(registry);
    }

    /** On the store's writer thread, once per batch. */
    @Override
    public void committed(int appends, long nanos) {
        inserts.inc(appends);
        commitSeconds.observe(nanos / 1e9);
        commitBatchSize.observe(appends);
    }

    /** One response of {@code route} with {@code status}; on an event loop, so without a lock or a label list. */
    public void responded(String route, int status) {
        if (status < 0 || status > MAX_STATUS) {
            return;
        }
        AtomicReferenceArray<CounterDataPoint> byStatus = responsesByRoute.get(route);
        if (byStatus == null) {
            byStatus = responsesByRoute.computeIfAbsent(route, r -> new AtomicReferenceArray<>(MAX_STATUS + 1));
        }
        CounterDataPoint point = byStatus.get(status);
        if (point == null) {
            // A race fills the slot twice with the same data point: the client hands out one per label values.
            point = responses.labelValues(route, Integer.toString(status));
            byStatus.set(status, point);
        }
        point.inc();
        int limit = limitIndex(status);
        if (limit >= 0) {
            limitStatuses[limit].increment();
        }
    }

    /** Responses with {@code status} since the start, for 408, 413, 429 and 503 (limits hit); 0 for others. */
    public long limitResponses(int status) {
        int limit = limitIndex(status);
        return limit < 0 ? 0 : limitStatuses[limit].sum();
    }

    private static int limitIndex(int status) {
        switch (status) {
            case 408: return 0;
            case 413: return 1;
            case 429: return 2;
            case 503: return 3;
            default: return -1;
        }
    }

    /** Every metric in the Prometheus text format. Reads the JVM's MXBeans: call it off the event loops. */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException("writing metrics to memory", e);
        }
        return out.toByteArray();
    }
}
