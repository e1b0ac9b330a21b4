package io.millrace.server;

import io.millrace.common.ConnectionsPerAddress;
import io.millrace.common.ErrorCode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code http.max.connections.per.ip} on the HTTP port: every connection from a client address counts, plain HTTP or
 * upgraded to a WebSocket (the upgrade happens on a connection already counted; {@code ws.max.connections.per.ip}
 * then also bounds how many of them are WebSockets). One instance for all the HTTP server's event loops.
 *
 * <p>A connection over the limit is answered at once, before anything it sends is read: {@code 429 Too Many Requests}
 * with the REST API's JSON error ({@code BROKER_OVERLOADED}, naming the key) and {@code connection: close}. Then the
 * broker shuts its side and discards what the client sends until the client closes (closing with the client's request
 * unread would reset the connection, and a reset can destroy the answer before the client reads it), or at most
 * {@code http.request.read.timeout.ms}.
 */
final class HttpConnectionsPerAddress {

    private static final Logger LOG = LoggerFactory.getLogger(HttpConnectionsPerAddress.class);

    private final ConnectionsPerAddress open;
    private final long refusedLingerMs;

    /**
     * @param maxPerAddress   most connections one client address may have open ({@code http.max.connections.per.ip})
     * @param refusedLingerMs longest a refused connection stays open waiting for the client to close it
     */
    HttpConnectionsPerAddress(int maxPerAddress, long refusedLingerMs) {
        this.open = new ConnectionsPerAddress(maxPerAddress);
        this.refusedLingerMs = refusedLingerMs;
    }

    /**
     * Counts a new connection against its client address until it closes, or refuses it if the address is at the
     * limit. Runs on the connection's event loop before anything it sent is read.
     *
     * @return whether the connection was admitted; a refused one must be left alone
     */
    boolean admit(HttpConnection connection) {
        // Vert.x exposes no channel on its public HttpConnection; its connections are ConnectionBase underneath.
        if (!(connection instanceof ConnectionBase base)) {
            return true;
        }
        String address = connection.remoteAddress().hostAddress();
        Channel channel = base.channel();
        if (open.tryOpen(address)) {
            // The channel, not the Vert.x connection: an upgrade to a WebSocket hands the channel to another object.
            channel.closeFuture().addListener(closed -> open.closed(address));
            return true;
        }
        String message = "Your address " + address + " has " + open.max() + " connections open to this broker's"
                + " HTTP port (http.max.connections.per.ip); close one, or retry later";
        LOG.debug("Refusing an HTTP connection: {}", message);
        channel.pipeline().addFirst("millraceRefused", new Refusal(message));
        return false;
    }

    /** First in a refused connection's pipeline: answers, half-closes, and swallows whatever comes in. */
    private final class Refusal extends ChannelInboundHandlerAdapter {

        private final String message;
        private ScheduledFuture<?> lingerLimit;

        Refusal(String message) {
            this.message = message;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(ConnectionDeadlines.closingErrorResponse("429 Too Many Requests",
                    ErrorCode.BROKER_OVERLOADED, message)).addListener(written -> {
                        if (ctx.channel() instanceof DuplexChannel duplex && written.isSuccess()) {
                            duplex.shutdownOutput();
                        } else {
                            ctx.close();
                        }
                    });
            // The client's end of stream closes the channel (no half-closure allowed); this bounds a client that
            // never closes.
            lingerLimit = ctx.executor().schedule(() -> ctx.close(), refusedLingerMs, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            lingerLimit.cancel(false);
            ctx.fireChannelInactive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}
