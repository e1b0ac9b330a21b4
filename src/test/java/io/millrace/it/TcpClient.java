package io.millrace.it;

import io.millrace.common.ErrorCode;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.ErrorResponse;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.HandshakeRequest;
import io.millrace.protocol.HandshakeResponse;
import io.millrace.protocol.Message;
import io.millrace.protocol.Push;
import io.millrace.protocol.Request;
import io.millrace.protocol.Response;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A small blocking client of the native TCP protocol over a plain {@link Socket}, for tests: sends requests (or any
 * bytes), and a reader thread collects every frame the broker sends, decoded where it can be, until the broker closes
 * the connection. Frames the codec cannot decode (an error answer under an unknown apiKey) are kept with their raw
 * header and error.
 */
public final class TcpClient implements AutoCloseable {

    /**
     * One frame from the broker.
     *
     * @param apiKey        the raw apiKey
     * @param correlationId the correlation id (the subscription id for a PUSH)
     * @param message       the decoded message, empty if the codec could not decode the frame
     * @param error         the error of an error response (read from the response header even when the rest does
     *                      not decode), or of a PUSH that ends a subscription; empty on success
     */
    public record Received(short apiKey, int correlationId, Optional<Message> message, Optional<ApiError> error) {

        public boolean isPush() {
            return message.isPresent() && message.get() instanceof Push;
        }

        public ErrorCode errorCode() {
            return error.map(ApiError::code).orElse(null);
        }

        @SuppressWarnings("unchecked")
        public <M extends Message> M as(Class<M> type) {
            Message m = message.orElseThrow(() -> new AssertionError("Undecodable frame " + this));
            if (!type.isInstance(m)) {
                throw new AssertionError("Expected a " + type.getSimpleName() + " but got " + m);
            }
            return (M) m;
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final Inbox<Received> received = new Inbox<>("frame", () -> closed().isDone());
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final AtomicInteger nextCorrelationId = new AtomicInteger(1);
    /** Held by {@link #pauseReading()}: the reader thread waits for it before each frame. */
    private final java.util.concurrent.Semaphore reading = new java.util.concurrent.Semaphore(1);

    /**
     * @param receiveBufferBytes the socket's receive buffer, or 0 for the system's (which grows as it is read)
     * @param localAddress       the loopback address to connect from, or null for the system's choice
     */
    private TcpClient(int port, int receiveBufferBytes, InetAddress localAddress) {
        try {
            socket = new Socket();
            if (localAddress != null) {
                socket.bind(new InetSocketAddress(localAddress, 0));
            }
            if (receiveBufferBytes > 0) {
                // before connecting, so the advertised window fits the buffer
                socket.setReceiveBufferSize(receiveBufferBytes);
            }
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setTcpNoDelay(true);
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread reader = new Thread(this::readLoop, "tcp-client-reader-" + port);
        reader.setDaemon(true);
        reader.start();
    }

    /** Connects without a handshake. */
    public static TcpClient open(int port) {
        return new TcpClient(port, 0, null);
    }

    /**
     * Connects from another loopback address (any of 127.0.0.0/8 on Linux) without a handshake, so that the broker's
     * per-address limits count this client apart from the others of a test.
     */
    public static TcpClient openFrom(InetAddress localAddress, int port) {
        return new TcpClient(port, 0, localAddress);
    }

    /** Connects and completes a handshake; fails the test if the broker refuses it. */
    public static TcpClient connect(int port) {
        return connect(port, 0);
    }

    /**
     * Connects with a receive buffer of about {@code receiveBufferBytes} (fixed: the kernel does not grow it) and
     * completes a handshake, for tests that need to know how much a client that {@link #pauseReading() pauses} can
     * hold.
     */
    public static TcpClient connect(int port, int receiveBufferBytes) {
        TcpClient client = new TcpClient(port, receiveBufferBytes, null);
        client.handshake("test-client");
        return client;
    }

    /** The socket's receive buffer as the kernel sized it (Linux doubles what was asked for). */
    public int receiveBufferBytes() {
        try {
            return socket.getReceiveBufferSize();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public HandshakeResponse handshake(String clientId) {
        return call(HandshakeRequest.of(clientId)).as(HandshakeResponse.class);
    }

    /** Sends a request under a fresh correlation id and returns that id. */
    public int send(Request request) {
        int correlationId = nextCorrelationId.getAndIncrement();
        send(correlationId, request);
        return correlationId;
    }

    public void send(int correlationId, Request request) {
        ByteBuffer frame = FrameCodec.encode(correlationId, request);
        sendRaw(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
    }

    public void sendRaw(byte[] bytes) {
        sendRaw(bytes, 0, bytes.length);
    }

    private void sendRaw(byte[] bytes, int offset, int length) {
        try {
            synchronized (out) {
                out.write(bytes, offset, length);
                out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends a request and waits for its answer (a response or an error response), leaving pushes queued. */
    public Received call(Request request) {
        return awaitResponse(send(request), Duration.ofSeconds(30));
    }

    /** Sends a request and returns its successful answer; fails the test on an error response. */
    public <R extends Response> R ok(Request request, Class<R> type) {
        Received answer = call(request);
        if (answer.error().isPresent()) {
            throw new AssertionError(request.apiKey() + " failed: " + answer.error().get());
        }
        return answer.as(type);
    }

    /** Sends a request and returns the error code of its error response; fails the test if it succeeded. */
    public ErrorCode error(Request request) {
        Received answer = call(request);
        if (answer.message().isPresent() && !(answer.message().get() instanceof ErrorResponse)) {
            throw new AssertionError(request.apiKey() + " was expected to fail but got " + answer.message().get());
        }
        return answer.errorCode();
    }

    /** Waits for the response (not a PUSH) with the given correlation id. */
    public Received awaitResponse(int correlationId, Duration timeout) {
        return await(r -> !r.isPush() && r.correlationId() == correlationId, timeout);
    }

    /** Waits for the next PUSH of a subscription. */
    public Push awaitPush(int subscriptionId, Duration timeout) {
        return (Push) await(r -> r.isPush() && r.correlationId() == subscriptionId, timeout).message().get();
    }

    /** Waits for the first frame (received earlier or later) matching {@code match}, and removes it. */
    public Received await(Predicate<Received> match, Duration timeout) {
        return received.await(match, timeout);
    }

    /** Every frame received and not yet taken, in order; they stay queued. */
    public List<Received> pending() {
        return received.pending();
    }

    /** Takes every frame received so far. */
    public List<Received> drain() {
        return received.drain();
    }

    /** Completes when the broker closes the connection (end of stream or reset). */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    /** Whether the broker closed the connection within {@code timeout}. */
    public boolean awaitClosed(Duration timeout) {
        try {
            closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * Stops taking frames off the socket (after the one being read), so the broker's writes back up as they would
     * for a slow client; {@link #resumeReading()} takes them again.
     */
    public void pauseReading() {
        reading.acquireUninterruptibly();
    }

    public void resumeReading() {
        reading.release();
    }

    /** Stops sending: the broker reads end of stream after what was sent. */
    public void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            if (!socket.isClosed()) {
                throw new UncheckedIOException(e);
            }
            // The connection already ended (the broker closed it and the reader closed the socket): nothing to stop.
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private void readLoop() {
        try (DataInputStream in = new DataInputStream(socket.getInputStream())) {
            while (true) {
                reading.acquireUninterruptibly();
                reading.release();
                int size = in.readInt();
                if (size < FrameCodec.HEADER_BYTES) {
                    throw new IOException("The broker sent a frame of size " + size);
                }
                byte[] frame = new byte[size];
                in.readFully(frame);
                received.add(parse(ByteBuffer.wrap(frame)));
            }
        } catch (EOFException e) {
            // the broker closed the connection
        } catch (IOException e) {
            // reset or closed by this side
        } finally {
            closed.complete(null);
        }
    }

    private static Received parse(ByteBuffer frame) {
        short apiKey = frame.getShort(0);
        int correlationId = frame.getInt(2);
        Optional<Message> message;
        try {
            message = Optional.of(FrameCodec.decodeResponse(frame.duplicate()).message());
        } catch (RuntimeException e) {
            message = Optional.empty();
        }
        Optional<ApiError> error = Optional.empty();
        if (message.isPresent() && message.get() instanceof Push push) {
            error = push.error();
        } else if (message.isPresent() && message.get() instanceof ErrorResponse response) {
            error = Optional.of(response.error());
        } else if (message.isEmpty() && frame.remaining() >= FrameCodec.HEADER_BYTES + 4) {
            // An error answer under an apiKey the codec does not know: read the response header by hand.
            short code = frame.getShort(FrameCodec.HEADER_BYTES);
            int length = frame.getShort(FrameCodec.HEADER_BYTES + 2);
            String text = length < 0 ? null : new String(frame.array(), FrameCodec.HEADER_BYTES + 4,
                    Math.min(length, frame.remaining() - FrameCodec.HEADER_BYTES - 4), StandardCharsets.UTF_8);
            if (code != 0) {
                error = Optional.of(new ApiError(ErrorCode.forCode(code), text));
            }
        }
        return new Received(apiKey, correlationId, message, error);
    }
}
