package dev.broker.server.sse;

import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import java.util.ArrayList;
import java.util.List;

/** One tenant's streams on one event loop: the live ones in a ChannelGroup, and those still catching up. */
final class TenantSubscribers {

    final String tenant;
    final ChannelGroup live;
    final List<SseSession> joining = new ArrayList<>(2);
    /** Whether the group has writes waiting for the loop's next flush. */
    boolean dirty;

    TenantSubscribers(String tenant, EventLoop loop) {
        this.tenant = tenant;
        this.live = new DefaultChannelGroup("sse:" + tenant, loop);
    }

    boolean isEmpty() {
        return live.isEmpty() && joining.isEmpty();
    }
}
