package io.millrace.it;

import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A WebSocket client over a plain {@link Socket}, with the handshake and framing of RFC 6455 done by hand (no
 * extensions, so nothing is compressed), for tests that need what {@link WsClient} cannot give: a receive buffer of
 * a chosen size, and a reader that stops taking bytes off the socket ({@link #pauseReading()}) so that the broker's
 * writes back up behind it. A reader thread answers pings and collects every text message as JSON.
 */
public final class PausableWsClient implements AutoCloseable {

    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final int OP_CONTINUATION = 0x0;
    private static final int OP_TEXT = 0x1;
    private static final int OP_CLOSE = 0x8;
    private static final int OP_PING = 0x9;
    private static final int OP_PONG = 0xA;

    private final Socket socket;
    private final OutputStream out;
    private final Inbox<JsonObject> received = new Inbox<>("message", () -> closed().isDone());
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    /** Held by {@link #pauseReading()}: the reader thread waits for it before each frame. */
    private final Semaphore reading = new Semaphore(1);

    private PausableWsClient(URI uri, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        // Before connecting, so the window the client advertises fits the buffer (and the kernel never grows it).
        socket.setReceiveBufferSize(receiveBufferBytes);
        socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        handshake(uri, in);
        Thread reader = new Thread(() -> readLoop(in), "ws-pausable-reader-" + socket.getLocalPort());
        reader.setDaemon(true);
        reader.start();
    }

    /** Connects with a receive buffer of about {@code receiveBufferBytes} and completes the WebSocket handshake. */
    public static PausableWsClient connect(URI uri, int receiveBufferBytes) {
        try {
            return new PausableWsClient(uri, receiveBufferBytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The socket's receive buffer as the kernel sized it (Linux doubles what was asked for). */
    public int receiveBufferBytes() {
        try {
            return socket.getReceiveBufferSize();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends a request with a fresh id and returns that id. */
    public int send(JsonObject message) {
        int id = nextId.getAndIncrement();
        sendFrame(OP_TEXT, message.copy().put("id", id).encode().getBytes(StandardCharsets.UTF_8));
        return id;
    }

    /** Sends a request and waits for its result or error (the reader must not be paused). */
    public JsonObject call(JsonObject message) {
        int id = send(message);
        return received.await(m -> Integer.valueOf(id).equals(m.getValue("id")), Duration.ofSeconds(30));
    }

    /** Takes every message received so far, in order. */
    public List<JsonObject> drain() {
        return received.drain();
    }

    /**
     * Stops taking frames off the socket (after the one being read), so the broker's writes fill this socket's
     * receive buffer, then the broker's send buffer and write queue; {@link #resumeReading()} reads on.
     */
    public void pauseReading() {
        reading.acquireUninterruptibly();
    }

    public void resumeReading() {
        reading.release();
    }

    /** Completes when the broker closes the connection (close frame, end of stream or reset). */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private void handshake(URI uri, InputStream in) throws IOException {
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        String request = "GET " + uri.getRawPath() + " HTTP/1.1\r\n"
                + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        // Byte by byte up to the blank line, so that no frame after the headers is read into a buffer here.
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (head.size() < 4 || !head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("The broker closed the connection during the handshake: " + head);
            }
            head.write(b);
        }
        String response = head.toString(StandardCharsets.US_ASCII);
        String accept = accept(key);
        if (!response.startsWith("HTTP/1.1 101") || !response.toLowerCase().contains(
                "sec-websocket-accept: " + accept.toLowerCase())) {
            throw new IOException("Handshake refused: " + response);
        }
    }

    private static String accept(String key) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes one whole frame, masked as every client frame must be. */
    private void sendFrame(int opcode, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write(0x80 | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length <= 0xFFFF) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) payload.length >>> shift));
            }
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i & 3]);
        }
        try {
            synchronized (out) {
                frame.writeTo(out);
                out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void readLoop(InputStream socketIn) {
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(socketIn, 64 * 1024))) {
            while (true) {
                reading.acquireUninterruptibly();
                reading.release();
                int first = in.readUnsignedByte();
                int second = in.readUnsignedByte();
                if ((second & 0x80) != 0) {
                    throw new IOException("The broker sent a masked frame");
                }
                long length = second & 0x7F;
                if (length == 126) {
                    length = in.readUnsignedShort();
                } else if (length == 127) {
                    length = in.readLong();
                }
                if (length > Integer.MAX_VALUE - 16) {
                    throw new IOException("The broker sent a frame of " + length + " bytes");
                }
                byte[] payload = new byte[(int) length];
                in.readFully(payload);
                int opcode = first & 0x0F;
                if (opcode == OP_CLOSE) {
                    return;
                } else if (opcode == OP_PING) {
                    sendFrame(OP_PONG, payload);
                } else if (opcode == OP_TEXT || opcode == OP_CONTINUATION) {
                    message.write(payload);
                    if ((first & 0x80) != 0) {
                        received.add(new JsonObject(message.toString(StandardCharsets.UTF_8)));
                        message.reset();
                    }
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // end of stream, reset, or closed by this side
        } finally {
            closed.complete(null);
        }
    }
}
