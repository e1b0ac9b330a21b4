package io.millrace.broker;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * For tests of front-ends' send paths: a Vert.x instance of its own with one accepted server socket and its client on
 * the loopback address. The client splits what it receives into size-prefixed frames (a 4-byte size, then that many
 * bytes), as the native and the Kafka protocols frame them.
 */
public final class LoopbackConnection implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx();
    private final BlockingQueue<ByteBuffer> frames = new LinkedBlockingQueue<>();
    /*
     * Held for the connection's life: Vert.x closes a NetClient (and with it its connections) or a NetServer once
     * nothing references it, which a GC between connecting and writing would do.
     */
    private NetServer netServer;
    private NetClient netClient;
    private NetSocket server;
    private Context serverContext;
    private NetSocket client;
    private Buffer pending = Buffer.buffer();

    private LoopbackConnection() {
    }

    /** Connects; {@code onAccept} runs on the server socket's event loop when it is accepted. */
    public static LoopbackConnection open(Consumer<NetSocket> onAccept) throws Exception {
        LoopbackConnection connection = new LoopbackConnection();
        try {
            connection.connect(onAccept);
        } catch (Exception e) {
            connection.close();
            throw e;
        }
        return connection;
    }

    private void connect(Consumer<NetSocket> onAccept) throws Exception {
        Promise<NetSocket> accepted = Promise.promise();
        netServer = vertx.createNetServer().connectHandler(socket -> {
            serverContext = vertx.getOrCreateContext();
            onAccept.accept(socket);
            accepted.complete(socket);
        });
        int port = netServer.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
        netClient = vertx.createNetClient();
        client = netClient.connect(port, "127.0.0.1").await(10, TimeUnit.SECONDS);
        client.handler(chunk -> {
            pending.appendBuffer(chunk);
            while (pending.length() >= 4 && pending.length() >= 4 + pending.getInt(0)) {
                int size = pending.getInt(0);
                frames.add(ByteBuffer.wrap(pending.getBytes(4, 4 + size)));
                pending = pending.getBuffer(4 + size, pending.length());
            }
        });
        server = accepted.future().await(10, TimeUnit.SECONDS);
    }

    public NetSocket server() {
        return server;
    }

    public NetSocket client() {
        return client;
    }

    /** Runs {@code action} on the server socket's event loop and returns what it returned. */
    public <T> T onServer(Callable<T> action) throws Exception {
        return InProcessBroker.on(serverContext, action);
    }

    /** The next frame the client received, without its size field; null if none came within 10 s. */
    public ByteBuffer nextFrame() throws InterruptedException {
        return nextFrame(10_000);
    }

    /** The next frame the client received, without its size field; null if none came within {@code millis}. */
    public ByteBuffer nextFrame(long millis) throws InterruptedException {
        return frames.poll(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }
}
