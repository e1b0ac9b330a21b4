package io.millrace.server;

import io.millrace.broker.json.JsonMapping;
import io.millrace.common.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.impl.ConnectionBase;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The deadline against slow senders on the HTTP port: an HTTP request (request line, headers and body) must arrive
 * within {@code http.request.read.timeout.ms} of its first byte, and a WebSocket message (all its fragments) within
 * {@code ws.message.read.timeout.ms}. The idle timeout cannot catch a client that sends one byte a second: it is never
 * idle.
 *
 * <p>Two Netty handlers on the connection's pipeline share one instance. The clock, first in the pipeline, sees raw
 * bytes and starts the deadline on the first byte read while none runs. The end mark, right after the HTTP request
 * decoder, sees what the decoder made of them and stops the deadline when a unit is whole: the last content of an
 * HTTP request, the final frame of a WebSocket message, or a control frame outside a fragmented message. A WebSocket
 * upgrade replaces the HTTP decoder by the frame decoder in the same place, so the end mark then sees frames. Bytes of
 * the next unit that came in the same read as the end of the last start no deadline until the next read (or the idle
 * timeout) does.
 *
 * <p>When the deadline passes, the client is answered, with bytes written below every codec (the connection is given
 * up, so its codec state no longer matters): {@code 408} with the usual JSON error for HTTP, a close frame with status
 * 1008 for a WebSocket, and the connection is closed from the first handler (below Vert.x's). Vert.x keeps no
 * pipelined request unread for long (it decodes them, and the end mark sees them, before it queues them), so the deadline does not wait on Vert.x's own flow
 * control; an HTTP/1.1 client that pipelines requests behind a long one is the case it does not cover. A connection
 * upgraded to HTTP/2 (h2c) has neither decoder: the handlers take themselves out on its first bytes. The port has no
 * TLS; with TLS the answer would have to go above the TLS handler.
 *
 * <p>Not thread-safe: the channel's event loop calls it.
 */
final class ReadDeadline {

    /** The name of the HTTP/1.x request decoder in a Vert.x server pipeline. */
    private static final String HTTP_DECODER = "httpDecoder";
    private static final String END_MARK = "millraceReadEnd";
    private static final int POLICY_VIOLATION = 1008;
    /** A close frame's payload, status included, is at most 125 bytes (RFC 6455, 5.5). */
    private static final int MAX_CLOSE_REASON_BYTES = 123;

    private final long httpTimeoutMs;
    private final long webSocketTimeoutMs;
    private ChannelHandlerContext clockContext;
    private ScheduledFuture<?> deadline;
    private boolean fragmentedMessage;

    private ReadDeadline(long httpTimeoutMs, long webSocketTimeoutMs) {
        this.httpTimeoutMs = httpTimeoutMs;
        this.webSocketTimeoutMs = webSocketTimeoutMs;
    }

    /**
     * Puts the deadlines on a new HTTP/1.x connection; an HTTP/2 connection, which has no HTTP/1.x decoder, is left
     * as it is. Runs on the connection's event loop before its first request is decoded.
     */
    static void install(HttpConnection connection, long httpTimeoutMs, long webSocketTimeoutMs) {
        // Vert.x exposes no pipeline on its public HttpConnection; its connections are ConnectionBase underneath.
        if (!(connection instanceof ConnectionBase base)) {
            return;
        }
        ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
        if (pipeline.get(HTTP_DECODER) == null) {
            return;
        }
        ReadDeadline readDeadline = new ReadDeadline(httpTimeoutMs, webSocketTimeoutMs);
        pipeline.addFirst("millraceReadClock", readDeadline.new Clock());
        pipeline.addAfter(HTTP_DECODER, END_MARK, readDeadline.new EndMark());
    }

    private void start() {
        if (deadline == null) {
            deadline = clockContext.executor().schedule(this::expire, timeoutMs(), TimeUnit.MILLISECONDS);
        }
    }

    private void stop() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private long timeoutMs() {
        return upgraded() ? webSocketTimeoutMs : httpTimeoutMs;
    }

    /** Whether the connection is a WebSocket now: the upgrade took the HTTP decoder out. */
    private boolean upgraded() {
        return clockContext.pipeline().get(HTTP_DECODER) == null;
    }

    /** Whether the connection still speaks HTTP/1.x or WebSocket, not HTTP/2 after an h2c upgrade. */
    private boolean ownFraming() {
        ChannelPipeline pipeline = clockContext.pipeline();
        return pipeline.get(HTTP_DECODER) != null || pipeline.get(WebSocketFrameDecoder.class) != null;
    }

    private void expire() {
        deadline = null;
        if (!clockContext.channel().isActive()) {
            return;
        }
        boolean webSocket = upgraded();
        String key = webSocket ? "ws.message.read.timeout.ms" : "http.request.read.timeout.ms";
        // Short enough for a close frame's reason with the key in it.
        String message = (webSocket ? "Message" : "Request") + " not whole " + timeoutMs()
                + " ms after its first byte (" + key + "); closing";
        ByteBuf answer = webSocket ? closeFrame(message) : requestTimeout(message);
        // Closed from this first handler, below Vert.x's, which would otherwise turn the close of a WebSocket into a
        // closing handshake that waits for the client (which is the problem) for seconds.
        clockContext.writeAndFlush(answer);
        clockContext.close();
    }

    private static ByteBuf requestTimeout(String message) {
        byte[] body = new JsonObject().put("error", JsonMapping.error(ErrorCode.REQUEST_TIMED_OUT, message)).encode()
                .getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: "
                + body.length + "\r\nconnection: close\r\n\r\n";
        return Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body);
    }

    /** An unmasked close frame (a server's frames are never masked) with status 1008 and the reason, cut to fit. */
    private static ByteBuf closeFrame(String message) {
        byte[] reason = (ErrorCode.REQUEST_TIMED_OUT.name() + ": " + message).getBytes(StandardCharsets.UTF_8);
        int length = Math.min(reason.length, MAX_CLOSE_REASON_BYTES);
        while (length > 0 && length < reason.length && (reason[length] & 0xC0) == 0x80) {
            length--; // do not cut a UTF-8 sequence in two
        }
        ByteBuf frame = Unpooled.buffer(4 + length);
        frame.writeByte(0x88); // FIN, opcode 8 (close)
        frame.writeByte(2 + length);
        frame.writeShort(POLICY_VIOLATION);
        frame.writeBytes(reason, 0, length);
        return frame;
    }

    /** First in the pipeline: starts the deadline on the first byte of a unit. */
    private final class Clock extends ChannelInboundHandlerAdapter {

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            clockContext = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!ownFraming()) {
                stop();
                ctx.pipeline().remove(END_MARK);
                ctx.pipeline().remove(this);
            } else if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
                start();
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            stop();
            ctx.fireChannelInactive();
        }
    }

    /** After the decoder: stops the deadline when a request or message is whole. */
    private final class EndMark extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof LastHttpContent) {
                stop();
            } else if (msg instanceof WebSocketFrame frame) {
                boolean data = frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame
                        || frame instanceof ContinuationWebSocketFrame;
                if (data) {
                    fragmentedMessage = !frame.isFinalFragment();
                }
                if (!fragmentedMessage) {
                    stop();
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
