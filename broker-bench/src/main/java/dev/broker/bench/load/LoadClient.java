package dev.broker.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The load generator's Netty client: native epoll (NIO where epoll does not load), subscriber connections on
 * {@code threads} event loops and publishers on a loop of their own, so that pacing is not delayed by a storm of
 * deliveries. Connections are spread over several source addresses (127.0.0.2, 127.0.0.3, ...) so that tens of
 * thousands of them never run out of ephemeral ports, and are closed with a reset (SO_LINGER 0), which leaves no
 * TIME_WAIT behind between scenarios.
 *
 * <p>With an {@code https://} target every connection starts with TLS ({@link ClientTls}); with
 * {@code --h2-streams-per-conn N} subscribers are HTTP/2 streams, N to a connection ({@link H2Connections}), while
 * publishers stay on HTTP/1.1 over TLS.
 */
public final class LoadClient implements AutoCloseable {

    /** How long a subscriber may take from connect to the response head. */
    static final long OPEN_TIMEOUT_SECONDS = 30;
    static final int CONNECT_ATTEMPTS = 3;

    private final Target target;
    private final EventLoopGroup subscriberLoops;
    private final EventLoopGroup publisherLoops;
    private final Class<? extends Channel> channelClass;
    private final boolean epoll;
    private final List<InetAddress> sources = new ArrayList<>();
    private final AtomicInteger nextSource = new AtomicInteger();
    private final ClientTls tls;
    private final H2Connections h2;
    private final List<InetSocketAddress> subscriberAddresses;

    public LoadClient(Target target, int threads, int sourceAddresses) {
        this(target, threads, sourceAddresses, List.of());
    }

    /**
     * @param subscriberAddresses servers that subscribers connect to, round-robin by subscriber index (e.g. two
     *                            edges of one cluster); empty: the target's address. Publishers use the target's.
     */
    public LoadClient(Target target, int threads, int sourceAddresses, List<InetSocketAddress> subscriberAddresses) {
        this.target = target;
        this.subscriberAddresses = subscriberAddresses.isEmpty() ? List.of(target.address()) : List.copyOf(subscriberAddresses);
        this.epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.channelClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        this.subscriberLoops = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("bench-sub", true), io);
        this.publisherLoops = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("bench-pub", true), io);
        this.tls = target.tls();
        this.h2 = tls != null && tls.h2Streams() > 0 ? new H2Connections(this, subscriberLoops, tls) : null;
        byte[] serverAddress = target.address().getAddress().getAddress();
        try {
            if (serverAddress.length == 4 && serverAddress[0] == 127) {
                for (int i = 0; i < sourceAddresses; i++) {
                    sources.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (2 + i)}));
                }
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public Target target() {
        return target;
    }

    public String transport() {
        return epoll ? "epoll" : "nio";
    }

    EventLoop publisherLoop() {
        return publisherLoops.next();
    }

    Bootstrap bootstrap(EventLoopGroup group) {
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_LINGER, 0)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
        if (epoll) {
            bootstrap.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
        }
        return bootstrap;
    }

    /**
     * {@code handler} behind TLS when the target is {@code https://}, else itself; {@code subscriber} is the
     * simulated subscriber whose session it resumes, or -1 for a publisher.
     */
    ChannelHandler secured(ChannelHandler handler, int subscriber) {
        if (tls == null) {
            return handler;
        }
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(subscriber < 0 ? tls.newPublisherHandler(ch.alloc())
                        : tls.newSubscriberHandler(ch.alloc(), subscriber), handler);
            }
        };
    }

    /** Handshakes so far (null for plain HTTP). */
    ClientTls.Counts tlsCounts() {
        return tls == null ? null : tls.counts();
    }

    /** One subscriber's channel: a connection of its own, or a stream of a shared HTTP/2 connection. */
    private Promise<Channel> openSubscriber(Subscriber subscriber, SseHandler handler) {
        if (h2 != null) {
            return h2.openStream(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel stream) {
                    stream.pipeline().addLast(new H2StreamAdapter(), handler);
                }
            });
        }
        Promise<Channel> opened = ImmediateEventExecutor.INSTANCE.newPromise();
        InetSocketAddress server = subscriberAddresses.get(subscriber.index() % subscriberAddresses.size());
        ChannelFuture connect = connect(bootstrap(subscriberLoops).handler(secured(handler, subscriber.index())), server);
        connect.addListener(f -> {
            if (f.isSuccess()) {
                opened.trySuccess(connect.channel());
            } else {
                opened.tryFailure(f.cause());
            }
        });
        return opened;
    }

    ChannelFuture connect(Bootstrap bootstrap) {
        return connect(bootstrap, target.address());
    }

    private ChannelFuture connect(Bootstrap bootstrap, InetSocketAddress server) {
        if (sources.isEmpty()) {
            return bootstrap.connect(server);
        }
        InetAddress source = sources.get(Math.floorMod(nextSource.getAndIncrement(), sources.size()));
        return bootstrap.connect(server, new InetSocketAddress(source, 0));
    }

    /** The outcome of opening many subscribers. */
    public record OpenReport(int requested, int opened, int failed, long nanos, String firstFailure) {
    }

    /**
     * Opens every subscriber's stream, at most {@code parallel} connection attempts at a time, retrying a failed one
     * a few times. Completes when each is open or has failed for good.
     *
     * @param request the subscribe request of each subscriber (for example with its Last-Event-ID)
     */
    public CompletableFuture<OpenReport> open(List<Subscriber> subscribers, Function<Subscriber, ByteBuf> request,
                                              Subscriber.Listener listener, int parallel) {
        long start = System.nanoTime();
        CompletableFuture<OpenReport> done = new CompletableFuture<>();
        if (subscribers.isEmpty()) {
            done.complete(new OpenReport(0, 0, 0, 0, null));
            return done;
        }
        ConcurrentLinkedQueue<Subscriber> todo = new ConcurrentLinkedQueue<>(subscribers);
        AtomicInteger unsettled = new AtomicInteger(subscribers.size());
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        int[] attempts = new int[subscribers.stream().mapToInt(Subscriber::index).max().orElse(0) + 1];
        String[] firstFailure = new String[1];
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            Subscriber subscriber = todo.poll();
            if (subscriber == null) {
                return;
            }
            subscriber.dropping = false;
            SseHandler handler = new SseHandler(subscriber, listener, request.apply(subscriber));
            Promise<Channel> connect = openSubscriber(subscriber, handler);
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    handler.opened.completeExceptionally(f.cause());
                } else {
                    Channel channel = connect.getNow();
                    channel.eventLoop().schedule(() -> {
                        if (!handler.opened.isDone()) {
                            channel.close();
                        }
                    }, OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                }
            });
            handler.opened.whenComplete((ok, failure) -> {
                if (failure == null) {
                    opened.incrementAndGet();
                } else {
                    if (!connect.isSuccess()) {
                        handler.releaseRequest();
                    }
                    int attempt;
                    synchronized (attempts) {
                        attempt = ++attempts[subscriber.index];
                    }
                    if (attempt < CONNECT_ATTEMPTS) {
                        todo.add(subscriber);
                        subscriberLoops.schedule(next[0], 100L * attempt, TimeUnit.MILLISECONDS);
                        return;
                    }
                    failed.incrementAndGet();
                    synchronized (firstFailure) {
                        if (firstFailure[0] == null) {
                            firstFailure[0] = String.valueOf(failure);
                        }
                    }
                }
                if (unsettled.decrementAndGet() == 0) {
                    done.complete(new OpenReport(subscribers.size(), opened.get(), failed.get(),
                            System.nanoTime() - start, firstFailure[0]));
                } else {
                    next[0].run();
                }
            });
        };
        for (int i = 0; i < Math.min(parallel, subscribers.size()); i++) {
            next[0].run();
        }
        return done;
    }

    /** Drops every subscriber's connection (RST) and waits until each is closed. */
    public void dropAll(List<Subscriber> subscribers) {
        List<ChannelFuture> closing = new ArrayList<>();
        for (Subscriber subscriber : subscribers) {
            Channel channel = subscriber.channel;
            if (channel != null) {
                subscriber.dropping = true;
                closing.add(channel.close());
            }
        }
        for (ChannelFuture f : closing) {
            f.awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Waits until every client event loop has run everything queued before this call, so that what those loops
     * wrote (subscriber counters) is visible to the caller.
     */
    public void quiesce() {
        for (EventExecutor executor : subscriberLoops) {
            executor.submit(() -> { }).syncUninterruptibly();
        }
        for (EventExecutor executor : publisherLoops) {
            executor.submit(() -> { }).syncUninterruptibly();
        }
    }

    @Override
    public void close() {
        if (h2 != null) {
            h2.close();
        }
        subscriberLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        publisherLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
