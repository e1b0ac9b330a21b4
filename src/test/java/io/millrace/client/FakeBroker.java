package io.millrace.client;

import io.millrace.protocol.Frame;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.HandshakeRequest;
import io.millrace.protocol.HandshakeResponse;
import io.millrace.protocol.Message;
import io.millrace.protocol.Request;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiFunction;

/** A broker on a real socket that answers each request with the frames its script returns. */
final class FakeBroker implements AutoCloseable {
    private final ServerSocket server;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();

    FakeBroker(int id, BiFunction<Request, OutputStream, List<Message>> script) throws IOException {
        this(id, 3, script);
    }

    /** A broker that speaks protocol versions up to {@code version}. */
    FakeBroker(int id, int version, BiFunction<Request, OutputStream, List<Message>> script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    Thread t = new Thread(() -> serve(id, version, socket, script), "fake-broker-" + id);
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "fake-broker-accept-" + id);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void serve(int id, int maxVersion, Socket socket,
                       BiFunction<Request, OutputStream, List<Message>> script) {
        int version = FrameCodec.MIN_VERSION; // until the handshake, whose layout every version shares
        try (socket) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                byte[] body = new byte[in.readInt()];
                in.readFully(body);
                Frame<Request> frame = FrameCodec.decodeRequest(ByteBuffer.wrap(body), version);
                requests.add(frame.message());
                List<Message> answers;
                if (frame.message() instanceof HandshakeRequest hello) {
                    version = Math.min(maxVersion, hello.maxVersion());
                    answers = List.of(new HandshakeResponse(version, id, 1 << 20, 100));
                } else {
                    answers = script.apply(frame.message(), out);
                }
                for (Message m : answers) {
                    ByteBuffer encoded = FrameCodec.encode(frame.correlationId(), m, version);
                    out.write(encoded.array(), encoded.arrayOffset(), encoded.remaining());
                }
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            // the client went away
        }
    }

    int port() {
        return server.getLocalPort();
    }

    long received(io.millrace.protocol.ApiKey key) {
        return requests.stream().filter(r -> r.apiKey() == key).count();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
