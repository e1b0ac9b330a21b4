package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.common.ErrorCode;
import io.millrace.protocol.ErrorResponse;
import io.millrace.protocol.Frame;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.HandshakeRequest;
import io.millrace.protocol.HandshakeResponse;
import io.millrace.protocol.Message;
import io.millrace.protocol.Push;
import io.millrace.protocol.Request;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

/**
 * One broker, reached over one TCP connection at a time: connects lazily, performs the version handshake, matches
 * responses to requests by correlation id (they may arrive out of order), and routes pushes to their subscription.
 *
 * <p>When the connection drops, every request waiting on it fails with a retriable {@link ConnectionException},
 * every subscription on it is told, and the next request connects again; callers decide whether and when to retry.
 * Thread-safe.
 */
final class BrokerConnection {

    private final InetSocketAddress address;
    private final ClientConfig config;
    private final AtomicInteger correlationIds = new AtomicInteger(1);
    private volatile Mono<Session> session;
    private volatile boolean closed;

    BrokerConnection(InetSocketAddress address, ClientConfig config) {
        this.address = address;
        this.config = config;
    }

    InetSocketAddress address() {
        return address;
    }

    /** Sends a request; completes with its typed response, or fails with the broker's error as a typed exception. */
    <R extends Message> Mono<R> request(Request request) {
        return request(request, config.requestTimeout());
    }

    <R extends Message> Mono<R> request(Request request, Duration timeout) {
        return connected().flatMap(s -> s.call(request, timeout, null, null)).map(e -> this.<R>cast(e.getValue()));
    }

    /** Sends a request that has no response (CREDIT, PRODUCE with acks=0). */
    Mono<Void> send(Request request) {
        return connected().doOnNext(s -> s.write(correlationIds.getAndIncrement(), request)).then();
    }

    /**
     * Sends a SUBSCRIBE and routes its pushes to {@code onPush}; {@code onDisconnect} runs if the connection drops
     * (the subscription ends with it). Completes with the subscription id (the request's correlation id) and the
     * response.
     */
    <R extends Message> Mono<Map.Entry<Integer, R>> subscribe(Request subscribe, Consumer<Push> onPush,
                                                               Runnable onDisconnect) {
        return connected().flatMap(s -> s.call(subscribe, config.requestTimeout(), onPush, onDisconnect))
                .map(e -> Map.entry(e.getKey(), this.<R>cast(e.getValue())));
    }

    /** Sends a request on the connection a subscription lives on (CREDIT, UNSUBSCRIBE); no reconnection. */
    Mono<Void> sendOnCurrent(Request request) {
        Mono<Session> current = session;
        return current == null ? Mono.empty() : current.doOnNext(s -> s.write(correlationIds.getAndIncrement(),
                request)).then().onErrorResume(e -> Mono.empty());
    }

    void unsubscribed(int subscriptionId) {
        Mono<Session> current = session;
        if (current != null) {
            current.subscribe(s -> s.forget(subscriptionId), e -> { });
        }
    }

    @SuppressWarnings("unchecked")
    private <R extends Message> R cast(Message message) {
        return (R) message;
    }

    private Mono<Session> connected() {
        if (closed) {
            return Mono.error(new ConnectionException("The client is closed", null));
        }
        Mono<Session> current = session;
        if (current == null) {
            synchronized (this) {
                current = session;
                if (current == null) {
                    current = connect().cache(s -> Duration.ofMillis(Long.MAX_VALUE), e -> Duration.ZERO,
                            () -> Duration.ZERO);
                    session = current;
                }
            }
        }
        Mono<Session> attempt = current;
        return attempt.flatMap(s -> {
            if (s.conn.isDisposed()) {
                forget(attempt);
                return connected();
            }
            return Mono.just(s);
        }).doOnError(e -> forget(attempt));
    }

    private void forget(Mono<Session> stale) {
        synchronized (this) {
            if (session == stale) {
                session = null;
            }
        }
    }

    private Mono<Session> connect() {
        TcpClient client = TcpClient.create()
                .remoteAddress(() -> address)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .doOnConnected(conn -> conn.addHandlerLast("millrace-frames", new LengthFieldBasedFrameDecoder(
                        config.maxFrameBytes() + FrameCodec.SIZE_PREFIX_BYTES, 0, FrameCodec.SIZE_PREFIX_BYTES, 0,
                        FrameCodec.SIZE_PREFIX_BYTES)));
        if (config.tls().isPresent()) {
            client = client.secure(config.tls().get());
        }
        return client.connect()
                .onErrorMap(e -> !(e instanceof MillraceClientException),
                        e -> new ConnectionException("Cannot connect to " + address + ": " + e.getMessage(), e))
                .flatMap(conn -> {
                    Session s = new Session(conn);
                    conn.inbound().receive().retain().subscribe(s::onFrame, s::onClosed, () -> s.onClosed(null));
                    conn.onDispose(() -> s.onClosed(null));
                    return s.call(HandshakeRequest.of(config.clientId()), config.requestTimeout(), null, null)
                            .flatMap(e -> e.getValue() instanceof HandshakeResponse ? Mono.just(s)
                                    : Mono.error(new MillraceClientException(ErrorCode.UNSUPPORTED_VERSION,
                                    "Unexpected handshake answer from " + address)))
                            .doOnError(e -> conn.dispose());
                });
    }

    void close() {
        closed = true;
        Mono<Session> current = session;
        if (current != null) {
            current.subscribe(s -> s.conn.dispose(), e -> { });
        }
    }

    /** One live connection and what waits on it. */
    private final class Session {
        final Connection conn;
        final Map<Integer, Sinks.One<Message>> pending = new ConcurrentHashMap<>();
        final Map<Integer, Consumer<Push>> pushHandlers = new ConcurrentHashMap<>();
        final Map<Integer, Runnable> disconnectHandlers = new ConcurrentHashMap<>();
        volatile boolean dead;

        Session(Connection conn) {
            this.conn = conn;
        }

        Mono<Map.Entry<Integer, Message>> call(Request request, Duration timeout, Consumer<Push> onPush,
                                               Runnable onDisconnect) {
            if (dead) {
                return Mono.error(new ConnectionException("Connection to " + address + " lost", null));
            }
            int id = correlationIds.getAndIncrement();
            Sinks.One<Message> sink = Sinks.one();
            pending.put(id, sink);
            if (onPush != null) {
                pushHandlers.put(id, onPush);
                disconnectHandlers.put(id, onDisconnect);
            }
            write(id, request);
            return sink.asMono()
                    .timeout(timeout, Mono.error(() -> new MillraceClientException(ErrorCode.REQUEST_TIMED_OUT,
                            request.apiKey() + " to " + address + " got no answer within " + timeout.toMillis()
                                    + " ms")))
                    .doFinally(signal -> pending.remove(id))
                    .flatMap(message -> {
                        if (message instanceof ErrorResponse error) {
                            forget(id);
                            return Mono.error(MillraceClientException.from(error.error()));
                        }
                        return Mono.just(Map.entry(id, message));
                    });
        }

        /**
         * Writes in the order of the calls, whatever thread makes them: a write from another thread is queued as a
         * task on the channel's event loop, so one made on the event loop itself is queued too rather than done at
         * once, which would let it overtake earlier writes still in the queue (a producer issues batches from both).
         */
        void write(int correlationId, Request request) {
            Channel channel = conn.channel();
            ByteBuf frame = Unpooled.wrappedBuffer(FrameCodec.encode(correlationId, request));
            if (channel.eventLoop().inEventLoop()) {
                channel.eventLoop().execute(() -> channel.writeAndFlush(frame));
            } else {
                channel.writeAndFlush(frame);
            }
        }

        void forget(int subscriptionId) {
            pushHandlers.remove(subscriptionId);
            disconnectHandlers.remove(subscriptionId);
        }

        void onFrame(ByteBuf buf) {
            Frame<Message> frame;
            try {
                byte[] bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
                frame = FrameCodec.decodeResponse(ByteBuffer.wrap(bytes));
            } catch (RuntimeException e) {
                // A broker that sends what we cannot parse leaves nothing to resynchronise on.
                conn.dispose();
                return;
            } finally {
                buf.release();
            }
            if (frame.message() instanceof Push push) {
                Consumer<Push> handler = pushHandlers.get(frame.correlationId());
                if (handler != null) {
                    handler.accept(push);
                }
                return;
            }
            Sinks.One<Message> sink = pending.remove(frame.correlationId());
            if (sink != null) {
                sink.tryEmitValue(frame.message());
            }
        }

        void onClosed(Throwable error) {
            if (dead) {
                return;
            }
            dead = true;
            ConnectionException lost = new ConnectionException("Connection to " + address + " lost"
                    + (error == null ? "" : ": " + error.getMessage()), error);
            pending.values().forEach(sink -> sink.tryEmitError(lost));
            pending.clear();
            pushHandlers.clear();
            disconnectHandlers.values().forEach(Runnable::run);
            disconnectHandlers.clear();
        }
    }
}
