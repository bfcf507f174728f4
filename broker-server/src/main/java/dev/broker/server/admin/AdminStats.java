package dev.broker.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.broker.server.api.ApiRequest;
import dev.broker.server.api.Endpoint;
import dev.broker.server.api.Replies;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.Json;
import dev.broker.server.http.ResponseSlot;
import dev.broker.server.sse.SseCounters;
import dev.broker.server.sse.SseHub;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /admin/stats} (the operator's, see {@code AuthHandler}): the server's figures at a glance, as JSON —
 * open streams (total, and the tenants with the most), inserts and deliveries per second over the last few seconds,
 * uptime. The rates come from the fan-out's counters, sampled once a second on one event loop; the stream counts
 * are taken at the request, on every loop (the endpoint answers once all have).
 */
public final class AdminStats implements Endpoint {

    /** How many tenants the answer names, those with the most open streams first. */
    public static final int TOP_TENANTS = 20;
    /** The rates are averaged over this many seconds (or since start, when younger). */
    static final int WINDOW_SECONDS = 5;

    private record Sample(long nanos, SseCounters counters) {
    }

    private final SseHub hub;
    private final long startNanos = System.nanoTime();
    /** The newest samples, oldest first, at most one window's worth plus one (touched under its own lock). */
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private final ScheduledFuture<?> sampling;

    /** Starts sampling on {@code executor}, once a second, until it shuts down. */
    public AdminStats(SseHub hub, EventExecutor executor) {
        this.hub = hub;
        sample();
        this.sampling = executor.scheduleAtFixedRate(this::sample, 1, 1, TimeUnit.SECONDS);
    }

    private void sample() {
        long now = System.nanoTime();
        hub.counters().thenAccept(counters -> {
            synchronized (samples) {
                samples.addLast(new Sample(now, counters));
                while (samples.size() > WINDOW_SECONDS + 1) {
                    samples.removeFirst();
                }
            }
        });
    }

    /** Stops sampling (the loop's shutdown stops it too). */
    public void stop() {
        sampling.cancel(false);
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) {
        ResponseSlot slot = request.slot();
        double[] rates = rates();
        long uptimeSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
        hub.openStreamsByTenant().whenCompleteAsync((streams, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, "admin/stats", failure);
                return;
            }
            HttpResponses.json(ctx, slot, HttpResponseStatus.OK, Json.write(ctx.alloc(), g -> {
                g.writeStartObject();
                g.writeNumberField("uptime_seconds", uptimeSeconds);
                writeStreams(g, streams);
                g.writeNumberField("inserts_per_second", rates[0]);
                g.writeNumberField("deliveries_per_second", rates[1]);
                g.writeNumberField("rate_window_seconds", rates[2]);
                g.writeEndObject();
            }));
        }, ctx.executor());
    }

    /** Inserts/s, deliveries/s and the seconds they were averaged over, from the oldest to the newest sample. */
    double[] rates() {
        Sample oldest;
        Sample newest;
        synchronized (samples) {
            oldest = samples.peekFirst();
            newest = samples.peekLast();
        }
        if (oldest == null || oldest == newest) {
            return new double[] {0, 0, 0};
        }
        double seconds = (newest.nanos - oldest.nanos) / 1e9;
        return new double[] {
            round((newest.counters.events() - oldest.counters.events()) / seconds),
            round((newest.counters.deliveries() - oldest.counters.deliveries()) / seconds),
            round(seconds)};
    }

    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }

    /**
     * {@code "open_streams": {"total", "tenants", "top": [{"tenant", "streams"}…]}}: the top ones by count, then by
     * name.
     */
    private static void writeStreams(JsonGenerator g, Map<String, Integer> byTenant) throws IOException {
        Comparator<Map.Entry<String, Integer>> fewerFirst = Map.Entry.<String, Integer>comparingByValue()
                .thenComparing(Map.Entry.<String, Integer>comparingByKey().reversed());
        PriorityQueue<Map.Entry<String, Integer>> top = new PriorityQueue<>(fewerFirst);
        long total = 0;
        for (Map.Entry<String, Integer> entry : byTenant.entrySet()) {
            total += entry.getValue();
            top.add(entry);
            if (top.size() > TOP_TENANTS) {
                top.poll();
            }
        }
        List<Map.Entry<String, Integer>> most = new ArrayList<>(top);
        most.sort(fewerFirst.reversed());
        g.writeObjectFieldStart("open_streams");
        g.writeNumberField("total", total);
        g.writeNumberField("tenants", byTenant.size());
        g.writeArrayFieldStart("top");
        for (Map.Entry<String, Integer> entry : most) {
            g.writeStartObject();
            g.writeStringField("tenant", entry.getKey());
            g.writeNumberField("streams", entry.getValue());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
