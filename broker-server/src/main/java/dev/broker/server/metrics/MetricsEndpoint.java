package dev.broker.server.metrics;

import dev.broker.server.api.ApiRequest;
import dev.broker.server.api.Endpoint;
import dev.broker.server.auth.AuthFailures;
import dev.broker.server.auth.Secrets;
import dev.broker.server.http.HttpResponses;
import dev.broker.server.http.ResponseSlot;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /metrics}: every metric in the Prometheus text format. Needs {@code Authorization: Bearer <admin token>}
 * (compared in constant time) unless the metrics are public; answers {@code 401} otherwise. The scrape reads the
 * JVM's MXBeans (threads, pools, collectors), which takes a millisecond or more, so it runs on a thread of its own,
 * {@code broker-metrics}; with {@link #MAX_WAITING} scrapes already waiting, another gets {@code 503} with
 * {@code Retry-After: 1}.
 */
public final class MetricsEndpoint implements Endpoint, AutoCloseable {

    static final int MAX_WAITING = 4;

    private final BrokerMetrics metrics;
    private final String adminToken;
    private final boolean open;
    private final AuthFailures failures;
    private final ThreadPoolExecutor scraper = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(MAX_WAITING), runnable -> {
                Thread thread = new Thread(runnable, "broker-metrics");
                thread.setDaemon(true);
                return thread;
            });

    /**
     * @param adminToken the token a scraper must present as a Bearer credential
     * @param open       whether anyone may scrape, without a token ({@code --metrics_public})
     * @param failures   where wrong tokens are counted
     */
    public MetricsEndpoint(BrokerMetrics metrics, String adminToken, boolean open, AuthFailures failures) {
        this.metrics = metrics;
        this.adminToken = adminToken;
        this.open = open;
        this.failures = failures;
    }

    @Override
    public void handle(ChannelHandlerContext ctx, ApiRequest request) {
        ResponseSlot slot = request.slot();
        if (!open && !authorized(request.http().headers().get(HttpHeaderNames.AUTHORIZATION))) {
            failures.record(AuthFailures.Kind.BAD_ADMIN_TOKEN);
            FullHttpResponse response = HttpResponses.errorResponse(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED,
                    "metrics need Authorization: Bearer <admin_token>");
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"broker\"");
            HttpResponses.send(ctx, slot, response);
            return;
        }
        CompletableFuture<byte[]> scrape;
        try {
            scrape = CompletableFuture.supplyAsync(metrics::scrape, scraper);
        } catch (RejectedExecutionException busy) {
            FullHttpResponse response = HttpResponses.errorResponse(ctx.alloc(),
                    HttpResponseStatus.SERVICE_UNAVAILABLE, "metrics: too many scrapes under way, retry later");
            response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            HttpResponses.send(ctx, slot, response);
            return;
        }
        scrape.whenCompleteAsync((text, failure) -> {
            if (failure != null) {
                HttpResponses.error(ctx, slot, HttpResponseStatus.INTERNAL_SERVER_ERROR, "metrics: scrape failed");
                return;
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(text));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, BrokerMetrics.CONTENT_TYPE)
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, text.length);
            HttpResponses.send(ctx, slot, response);
        }, ctx.executor());
    }

    private boolean authorized(String authorization) {
        if (authorization == null) {
            return false;
        }
        String value = authorization.trim();
        if (!value.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return Secrets.matches(value.substring(7).trim(), adminToken);
    }

    /** Stops the scrape thread; a scrape under way finishes. */
    @Override
    public void close() {
        scraper.shutdown();
    }
}
