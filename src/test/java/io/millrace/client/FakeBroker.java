package io.millrace.client;

import io.millrace.protocol.Frame;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.HandshakeRequest;
import io.millrace.protocol.HandshakeResponse;
import io.millrace.protocol.Message;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.Request;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiFunction;
import java.util.stream.IntStream;

/**
 * A broker on a real socket that answers each request with the frames its script returns; a script that returns none
 * may answer later through the request's {@link Later}, after answering requests that came after it.
 */
final class FakeBroker implements AutoCloseable {

    /** Answers one request whenever the script chooses (any thread). */
    interface Later {
        void answer(Message message);
    }

    private final int id;
    private final ServerSocket server;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();

    FakeBroker(int id, BiFunction<Request, FakeBroker.Later, List<Message>> script) throws IOException {
        this(id, 3, script);
    }

    /** A broker that speaks protocol versions up to {@code version}. */
    FakeBroker(int id, int version, BiFunction<Request, FakeBroker.Later, List<Message>> script) throws IOException {
        this.id = id;
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
                       BiFunction<Request, FakeBroker.Later, List<Message>> script) {
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
                int negotiated = version;
                Later later = message -> {
                    try {
                        write(out, frame.correlationId(), message, negotiated);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
                if (frame.message() instanceof HandshakeRequest hello) {
                    version = Math.min(maxVersion, hello.maxVersion());
                    answers = List.of(new HandshakeResponse(version, id, 1 << 20, 100));
                } else {
                    answers = script.apply(frame.message(), later);
                }
                for (Message m : answers) {
                    write(out, frame.correlationId(), m, version);
                }
            }
        } catch (IOException | RuntimeException e) {
            // the client went away
        }
    }

    private static void write(OutputStream out, int correlationId, Message message, int version) throws IOException {
        ByteBuffer encoded = FrameCodec.encode(correlationId, message, version);
        synchronized (out) {
            out.write(encoded.array(), encoded.arrayOffset(), encoded.remaining());
            out.flush();
        }
    }

    /**
     * Metadata of a cluster of this broker alone: the only replica and the leader, in {@code leaderEpoch}, of every
     * partition of each topic ({@code partitionsByTopic}: name to partition count).
     */
    MetadataResponse metadata(int leaderEpoch, Map<String, Integer> partitionsByTopic) {
        return new MetadataResponse(List.of(new MetadataResponse.Broker(id, "127.0.0.1", port(), -1)),
                OptionalInt.of(id), partitionsByTopic.entrySet().stream()
                .map(topic -> new MetadataResponse.TopicMetadata(topic.getKey(), Optional.empty(),
                        IntStream.range(0, topic.getValue()).mapToObj(p -> new MetadataResponse.PartitionMetadata(p,
                                OptionalInt.of(id), leaderEpoch, List.of(id), List.of(id))).toList()))
                .toList());
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
