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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
 *
 * <p>A broker that cannot be reached is not dialled in a tight loop, whoever asks: after a failed connection attempt
 * (refused, timed out, or closed before the handshake completed) the next attempt waits for a back-off that doubles
 * from {@link ClientConfig#reconnectBackoff()} up to {@link ClientConfig#reconnectBackoffMax()} (with jitter), and
 * requests made before then fail at once with a {@link ConnectionException}. A completed handshake resets it.
 * {@link #healthy()} says whether the broker answered since its last failure, for choosing a broker to ask for
 * metadata.
 *
 * <p>Thread-safe.
 */
final class BrokerConnection {

    private final InetSocketAddress address;
    private final ClientConfig config;
    private final AtomicInteger correlationIds = new AtomicInteger(1);
    private volatile Mono<Session> session;
    private volatile boolean closed;
    /** Connection attempts that failed in a row; reset by a completed handshake. Guarded by {@code this}. */
    private int failedConnects;
    /** No connection attempt before this {@link System#nanoTime()}. Guarded by {@code this}. */
    private long retryNotBeforeNanos;
    /** The last connection failed or was lost, and no handshake has succeeded since. */
    private volatile boolean suspect;
    private final java.util.concurrent.atomic.AtomicLong connectAttempts = new java.util.concurrent.atomic.AtomicLong();

    BrokerConnection(InetSocketAddress address, ClientConfig config) {
        this.address = address;
        this.config = config;
    }

    InetSocketAddress address() {
        return address;
    }

    /** False after a failed or lost connection, until a handshake succeeds again. */
    boolean healthy() {
        return !suspect;
    }

    /** Whether a connection attempt would be made now (no back-off pending); true while connected. */
    synchronized boolean dialable() {
        return failedConnects == 0 || System.nanoTime() - retryNotBeforeNanos >= 0;
    }

    /** TCP connection attempts made so far (for tests and diagnostics). */
    long connectAttempts() {
        return connectAttempts.get();
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
                    long waitNanos = retryNotBeforeNanos - System.nanoTime();
                    if (failedConnects > 0 && waitNanos > 0) {
                        return Mono.error(new ConnectionException("Not connecting to " + address + " for another "
                                + TimeUnit.NANOSECONDS.toMillis(waitNanos) + " ms after " + failedConnects
                                + " failed attempt" + (failedConnects == 1 ? "" : "s"), null));
                    }
                    current = Mono.defer(this::connect)
                            .doOnNext(s -> connectSucceeded())
                            .doOnError(e -> connectFailed())
                            .cache(s -> Duration.ofMillis(Long.MAX_VALUE), e -> Duration.ZERO, () -> Duration.ZERO);
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

    private synchronized void connectSucceeded() {
        failedConnects = 0;
        suspect = false;
    }

    private synchronized void connectFailed() {
        failedConnects++;
        suspect = true;
        long base = Math.max(1, config.reconnectBackoff().toMillis());
        long max = Math.max(base, config.reconnectBackoffMax().toMillis());
        long backoff = Math.min(max, base << Math.min(failedConnects - 1, 20));
        // +-20% jitter, so that clients cut off together do not come back in step
        long jittered = (long) (backoff * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
        retryNotBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, jittered));
    }

    private Mono<Session> connect() {
        connectAttempts.incrementAndGet();
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
                            .flatMap(e -> {
                                if (e.getValue() instanceof HandshakeResponse hello) {
                                    s.version = hello.version();
                                    return Mono.just(s);
                                }
                                return Mono.error(new MillraceClientException(ErrorCode.UNSUPPORTED_VERSION,
                                        "Unexpected handshake answer from " + address));
                            })
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
        /** The negotiated protocol version; the handshake itself is read before it is known. */
        volatile int version = FrameCodec.MIN_VERSION;

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
            // In the negotiated version, so that a broker speaking an older one reads it (no leader epochs before 4).
            ByteBuf frame = Unpooled.wrappedBuffer(FrameCodec.encode(correlationId, request, version));
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
                frame = FrameCodec.decodeResponse(ByteBuffer.wrap(bytes), version);
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
            suspect = true;
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
