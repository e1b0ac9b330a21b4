package io.millrace.server;

import io.millrace.broker.json.JsonMapping;
import io.millrace.common.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
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
 * The deadlines of a connection to the HTTP port, against slow senders and idle connections.
 *
 * <p><b>Read deadline.</b> An HTTP request (request line, headers and body) must arrive within
 * {@code http.request.read.timeout.ms} of its first byte, and a WebSocket message (all its fragments) within
 * {@code ws.message.read.timeout.ms}. The idle timeout cannot catch a client that sends one byte a second: it is never
 * idle. The clock, first in the pipeline, sees raw bytes and starts the deadline on the first byte read while none
 * runs. The end mark, right after the HTTP request decoder, sees what the decoder made of them and stops the deadline
 * when a unit is whole: the last content of an HTTP request, the final frame of a WebSocket message, or a control
 * frame outside a fragmented message. A WebSocket upgrade replaces the HTTP decoder by the frame decoder in the same
 * place, so the end mark then sees frames. Bytes of the next unit that came in the same read as the end of the last
 * start no deadline until the next read (or the idle timeout) does. When the deadline passes, the client is answered,
 * with bytes written below every codec (the connection is given up, so its codec state no longer matters): {@code 408}
 * with the usual JSON error for HTTP, a close frame with status 1008 for a WebSocket, and the connection is closed from
 * the first handler (below Vert.x's). Vert.x keeps no pipelined request unread for long (it decodes them, and the end
 * mark sees them, before it queues them), so the deadline does not wait on Vert.x's own flow control; an HTTP/1.1
 * client that pipelines requests behind a long one is the case it does not cover.
 *
 * <p><b>Idle timeout.</b> A plain HTTP connection is closed once no byte has moved either way for
 * {@code http.idle.timeout.ms}, except while the broker prepares an answer: between a request's head and the write of
 * its answer's end nothing moves, and a long-poll fetch may wait longer than the idle timeout, so that time is never
 * idle (it is bounded by the request itself: {@code fetch.max.wait.ms} and {@code request.timeout.ms}). An answer
 * written but not taken by the client is idle again: a client that stops reading is closed like one that stops
 * talking. The end of an answer is seen by the answer mark, just before Vert.x's own handler, where the answers are
 * still HTTP objects. A WebSocket's idleness is its session's ({@code ws.idle.timeout.ms}, which pings the client and
 * counts only what it sends back), so this clock stops at the upgrade; Vert.x's own idle timeout is off.
 *
 * <p>A connection upgraded to HTTP/2 (h2c) has neither decoder: the handlers take themselves out on its first bytes.
 * The port has no TLS; with TLS the answers would have to go above the TLS handler.
 *
 * <p>Not thread-safe: the channel's event loop calls it.
 */
final class ConnectionDeadlines {

    /** The name of the HTTP/1.x request decoder in a Vert.x server pipeline. */
    private static final String HTTP_DECODER = "httpDecoder";
    /** The name of Vert.x's own handler, last in the pipeline. */
    private static final String VERTX_HANDLER = "handler";
    private static final String END_MARK = "millraceReadEnd";
    private static final String ANSWER_MARK = "millraceAnswerEnd";
    private static final int POLICY_VIOLATION = 1008;
    /** A close frame's payload, status included, is at most 125 bytes (RFC 6455, 5.5). */
    private static final int MAX_CLOSE_REASON_BYTES = 123;

    private final long httpTimeoutMs;
    private final long webSocketTimeoutMs;
    private final long idleTimeoutMs;
    private ChannelHandlerContext clockContext;
    private ScheduledFuture<?> deadline;
    private ScheduledFuture<?> idleCheck;
    private boolean fragmentedMessage;
    /** When a byte last came in or a write last completed, by {@link System#nanoTime()}. */
    private long lastProgressNanos = System.nanoTime();
    /** Requests whose head came in and whose answer has not been written to the end yet. */
    private int unansweredRequests;
    /** Writes handed to the socket that have not completed: bytes the client has not taken yet. */
    private int pendingWrites;
    private boolean upgraded;

    private ConnectionDeadlines(long httpTimeoutMs, long webSocketTimeoutMs, long idleTimeoutMs) {
        this.httpTimeoutMs = httpTimeoutMs;
        this.webSocketTimeoutMs = webSocketTimeoutMs;
        this.idleTimeoutMs = idleTimeoutMs;
    }

    /**
     * Puts the deadlines on a new HTTP/1.x connection; an HTTP/2 connection, which has no HTTP/1.x decoder, is left
     * as it is. Runs on the connection's event loop before its first request is decoded.
     *
     * @param httpTimeoutMs      time from an HTTP request's first byte to its last ({@code http.request.read.timeout.ms})
     * @param webSocketTimeoutMs time from a WebSocket message's first byte to its last
     *                           ({@code ws.message.read.timeout.ms})
     * @param idleTimeoutMs      time a plain HTTP connection may stay idle ({@code http.idle.timeout.ms})
     */
    static void install(HttpConnection connection, long httpTimeoutMs, long webSocketTimeoutMs, long idleTimeoutMs) {
        // Vert.x exposes no pipeline on its public HttpConnection; its connections are ConnectionBase underneath.
        if (!(connection instanceof ConnectionBase base)) {
            return;
        }
        ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
        if (pipeline.get(HTTP_DECODER) == null || pipeline.get(VERTX_HANDLER) == null) {
            return;
        }
        ConnectionDeadlines deadlines = new ConnectionDeadlines(httpTimeoutMs, webSocketTimeoutMs, idleTimeoutMs);
        pipeline.addFirst("millraceReadClock", deadlines.new Clock());
        pipeline.addAfter(HTTP_DECODER, END_MARK, deadlines.new EndMark());
        pipeline.addBefore(VERTX_HANDLER, ANSWER_MARK, deadlines.new AnswerMark());
        deadlines.scheduleIdleCheck(idleTimeoutMs);
    }

    /**
     * A whole HTTP/1.1 response, head and JSON error body, that closes the connection: for answers written below
     * Vert.x's codec, to a connection that is being given up.
     */
    static ByteBuf closingErrorResponse(String statusLine, ErrorCode code, String message) {
        byte[] body = new JsonObject().put("error", JsonMapping.error(code, message)).encode()
                .getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + statusLine + "\r\ncontent-type: application/json\r\ncontent-length: "
                + body.length + "\r\nconnection: close\r\n\r\n";
        return Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body);
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

    private void scheduleIdleCheck(long delayMs) {
        idleCheck = clockContext.executor().schedule(this::checkIdle, delayMs, TimeUnit.MILLISECONDS);
    }

    private void stopIdleCheck() {
        if (idleCheck != null) {
            idleCheck.cancel(false);
            idleCheck = null;
        }
    }

    private long timeoutMs() {
        return upgraded() ? webSocketTimeoutMs : httpTimeoutMs;
    }

    /**
     * Whether the connection is a WebSocket now: the upgrade took the HTTP decoder out, for good, so the answer is
     * kept once it is yes.
     */
    private boolean upgraded() {
        if (!upgraded) {
            upgraded = clockContext.pipeline().get(HTTP_DECODER) == null;
        }
        return upgraded;
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
        ByteBuf answer = webSocket ? closeFrame(message)
                : closingErrorResponse("408 Request Timeout", ErrorCode.REQUEST_TIMED_OUT, message);
        // Closed from this first handler, below Vert.x's, which would otherwise turn the close of a WebSocket into a
        // closing handshake that waits for the client (which is the problem) for seconds.
        clockContext.writeAndFlush(answer);
        clockContext.close();
    }

    /**
     * Closes a plain HTTP connection on which nothing moved for the idle timeout, unless the broker is preparing an
     * answer (a request is unanswered and nothing of it waits on the client); otherwise checks again when the
     * connection could next be idle.
     */
    private void checkIdle() {
        idleCheck = null;
        if (!clockContext.channel().isActive() || upgraded()) {
            return;
        }
        long quietMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastProgressNanos);
        boolean preparingAnswer = unansweredRequests > 0 && pendingWrites == 0;
        if (preparingAnswer) {
            scheduleIdleCheck(idleTimeoutMs);
        } else if (quietMs < idleTimeoutMs) {
            scheduleIdleCheck(idleTimeoutMs - quietMs);
        } else {
            clockContext.close();
        }
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

    /** First in the pipeline: starts the read deadline on the first byte of a unit; sees every byte move. */
    private final class Clock extends ChannelDuplexHandler {

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            clockContext = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            lastProgressNanos = System.nanoTime();
            if (!ownFraming()) {
                stop();
                stopIdleCheck();
                ctx.pipeline().remove(END_MARK);
                ctx.pipeline().remove(ANSWER_MARK);
                ctx.pipeline().remove(this);
            } else if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
                start();
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (upgraded()) {
                // A WebSocket's idleness is its session's: its frames (one per delivery in a fan-out) go untracked.
                ctx.write(msg, promise);
                return;
            }
            pendingWrites++;
            // Vert.x writes with void promises, which take no listener.
            ChannelPromise written = promise.unvoid();
            written.addListener(done -> {
                pendingWrites--;
                lastProgressNanos = System.nanoTime();
            });
            ctx.write(msg, written);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            stop();
            stopIdleCheck();
            ctx.fireChannelInactive();
        }
    }

    /** After the decoder: stops the read deadline when a request or message is whole; counts requests. */
    private final class EndMark extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                unansweredRequests++;
            }
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

    /** Just before Vert.x's handler: sees the end of each answer (an interim 1xx answer is not the end). */
    private final class AnswerMark extends ChannelOutboundHandlerAdapter {

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            boolean interim = msg instanceof HttpResponse response
                    && response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (msg instanceof LastHttpContent && !interim && unansweredRequests > 0) {
                unansweredRequests--;
            }
            ctx.write(msg, promise);
        }
    }
}
