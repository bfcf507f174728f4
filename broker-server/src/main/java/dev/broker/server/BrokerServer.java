package dev.broker.server;

import dev.broker.server.config.BrokerConfig;

/** Placeholder: the real server lands with the pipeline. */
public final class BrokerServer implements AutoCloseable {

    public static BrokerServer start(BrokerConfig config) {
        throw new UnsupportedOperationException("not yet");
    }

    public int port() {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public void close() {
    }
}
