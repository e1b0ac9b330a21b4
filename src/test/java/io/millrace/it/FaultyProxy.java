package io.millrace.it;

import io.millrace.protocol.ApiKey;
import io.millrace.protocol.Frame;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.FrameHeader;
import io.millrace.protocol.Message;
import io.millrace.protocol.MetadataResponse;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy in front of a broker's TCP port that can misbehave on purpose: drop the connection right
 * after the broker answered a PRODUCE (so the broker wrote the batch but the client never hears of it), or stall
 * every answer. It rewrites METADATA so that clients keep talking to the proxy. One thread per direction.
 */
public final class FaultyProxy implements AutoCloseable {

    private final ServerSocket server;
    private final int brokerPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger dropsArmed = new AtomicInteger();
    private final AtomicInteger dropsDone = new AtomicInteger();
    private final AtomicBoolean stalled = new AtomicBoolean();
    private volatile boolean closed;

    public FaultyProxy(int brokerPort) throws IOException {
        this.brokerPort = brokerPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "faulty-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** The next {@code n} PRODUCE responses are swallowed and their connection closed. */
    public void dropNextProduceResponses(int n) {
        dropsArmed.addAndGet(n);
    }

    public int drops() {
        return dropsDone.get();
    }

    /** While stalled, nothing from the broker reaches the client. */
    public void stall(boolean on) {
        stalled.set(on);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket broker = new Socket(InetAddress.getLoopbackAddress(), brokerPort);
                sockets.add(client);
                sockets.add(broker);
                start("c2b", () -> pipeRaw(client, broker));
                start("b2c", () -> pipeFrames(broker, client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void start(String name, Runnable body) {
        Thread t = new Thread(body, "faulty-proxy-" + name);
        t.setDaemon(true);
        t.start();
    }

    private void pipeRaw(Socket from, Socket to) {
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void pipeFrames(Socket from, Socket to) {
        try (DataInputStream in = new DataInputStream(from.getInputStream()); OutputStream out = to.getOutputStream()) {
            while (true) {
                int size = in.readInt();
                byte[] body = new byte[size];
                in.readFully(body);
                while (stalled.get() && !closed) {
                    Thread.sleep(10);
                }
                FrameHeader header = FrameCodec.readHeader(ByteBuffer.wrap(body));
                if (header.apiKey() == ApiKey.PRODUCE.id() && dropsArmed.get() > 0) {
                    dropsArmed.decrementAndGet();
                    dropsDone.incrementAndGet();
                    return;
                }
                if (header.apiKey() == ApiKey.METADATA.id()) {
                    body = redirectMetadata(body);
                }
                ByteBuffer prefix = ByteBuffer.allocate(4).putInt(0, body.length);
                out.write(prefix.array());
                out.write(body);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private byte[] redirectMetadata(byte[] body) {
        Frame<Message> frame = FrameCodec.decodeResponse(ByteBuffer.wrap(body));
        if (!(frame.message() instanceof MetadataResponse m)) {
            return body;
        }
        List<MetadataResponse.Broker> brokers = m.brokers().stream()
                .map(b -> new MetadataResponse.Broker(b.id(), "127.0.0.1", port(), b.httpPort())).toList();
        ByteBuffer encoded = FrameCodec.encode(frame.correlationId(),
                new MetadataResponse(brokers, m.controllerId(), m.topics()));
        byte[] out = new byte[encoded.remaining() - 4];
        encoded.position(4);
        encoded.get(out);
        return out;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        sockets.forEach(FaultyProxy::closeQuietly);
    }
}
