package dev.broker.server.admin;

import dev.broker.server.api.Replies;
import dev.broker.server.http.Json;
import dev.broker.server.http.ResponseSlot;
import dev.broker.storage.User;
import dev.broker.storage.UserStore;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.lang.System.Logger.Level;
import java.util.List;

/**
 * The whole answer of {@code list_users} without paging, written page by page as the store reads it, so that a
 * million users never sit in memory at once: a JSON array byte for byte the same as one built whole, in a chunked
 * HTTP/1.1 response (HTTP/1.0: unframed, ended by closing the connection) or in HTTP/2 DATA frames.
 *
 * <p>Backpressure: the next page is read only once the previous one has been written to the socket, so at most one
 * page is held per stream however slow the client. The first page is read before anything is written, so a store
 * that cannot read answers the usual error; a store failing later ends the response early (the connection, or the
 * HTTP/2 stream, is closed: the client sees a truncated body, never a well-formed partial list).
 *
 * <p>Runs on the channel's event loop; the store's futures hop back to it. The request must be the only one in flight
 * on its connection (the {@code RequestSequencer} sees to it): the body's chunks carry no slot.
 */
final class UserListStream {

    /** Users read and written at a time. */
    static final int PAGE = 512;

    private static final System.Logger LOG = System.getLogger(UserListStream.class.getName());

    private final ChannelHandlerContext ctx;
    private final ResponseSlot slot;
    private final UserStore store;
    private final int page;
    private final boolean chunked;
    private final boolean http2;

    private UserListStream(ChannelHandlerContext ctx, ResponseSlot slot, UserStore store, int page, boolean http10) {
        this.ctx = ctx;
        this.http2 = ctx.channel() instanceof Http2StreamChannel;
        this.chunked = !http2 && !http10;
        // Without chunks (HTTP/1.0), the end of the body is the end of the connection.
        this.slot = chunked || http2 ? slot : slot.closing();
        this.store = store;
        this.page = page;
    }

    /** Starts writing every stored user as the answer to the request in {@code slot}. */
    static void start(ChannelHandlerContext ctx, ResponseSlot slot, UserStore store, boolean http10) {
        start(ctx, slot, store, http10, PAGE);
    }

    /** {@link #start(ChannelHandlerContext, ResponseSlot, UserStore, boolean)} with pages of {@code page} users. */
    static void start(ChannelHandlerContext ctx, ResponseSlot slot, UserStore store, boolean http10, int page) {
        UserListStream stream = new UserListStream(ctx, slot, store, page, http10);
        store.list(null, page).whenCompleteAsync((users, failure) -> {
            if (failure != null) {
                Replies.failed(ctx, slot, "list_users", failure);
            } else {
                stream.writeHead(users);
            }
        }, ctx.executor());
    }

    private void writeHead(List<User> first) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        if (chunked) {
            head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (!http2) {
            head.headers().set(HttpHeaderNames.CONNECTION,
                    slot.keepAlive() ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        }
        slot.writeAndFlush(ctx, head);
        writePage(first, true);
    }

    /** Writes one page: its users as part of the array; the end of the array and the response after a short page. */
    private void writePage(List<User> users, boolean first) {
        boolean last = users.size() < page;
        ByteBuf bytes;
        try {
            bytes = encode(users, first, last);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "list_users: encoding a page failed; closing the response", e);
            ctx.close();
            return;
        }
        if (last) {
            ChannelFuture written = ctx.writeAndFlush(new DefaultLastHttpContent(bytes));
            if (!slot.keepAlive()) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        HttpContent chunk = new DefaultHttpContent(bytes);
        String after = users.get(users.size() - 1).username();
        ctx.writeAndFlush(chunk).addListener((ChannelFutureListener) written -> {
            if (written.isSuccess()) {
                readNext(after); // the page has left: only now is the next one read
            }
            // else the channel is closing: the rest is not wanted
        });
    }

    private void readNext(String after) {
        store.list(after, page).whenCompleteAsync((users, failure) -> {
            if (failure != null) {
                // The head has left with 200: all that is left to say is that the body is incomplete.
                LOG.log(Level.WARNING, "list_users: reading the next page failed; closing the response: "
                        + failure);
                ctx.close();
            } else if (ctx.channel().isActive()) {
                writePage(users, false);
            }
        }, ctx.executor());
    }

    /**
     * The page as a slice of the array: {@code [} before the first page's users, {@code ,} between any two users
     * (pages included), {@code ]} after the last page's. Jackson writes the page as an array and its brackets are
     * then replaced, so each user is written exactly as a whole list writes it.
     */
    private ByteBuf encode(List<User> users, boolean first, boolean last) {
        ByteBuf array = Json.write(ctx.alloc(), g -> {
            g.writeStartArray();
            for (User user : users) {
                AdminEndpoints.writeUser(g, user);
            }
            g.writeEndArray();
        });
        if (users.isEmpty()) {
            if (first) {
                return array; // []
            }
            array.clear().writeByte(']');
            return array;
        }
        if (!first) {
            array.setByte(array.readerIndex(), ',');
        }
        if (!last) {
            array.writerIndex(array.writerIndex() - 1); // drop the ']'
        }
        return array;
    }
}
