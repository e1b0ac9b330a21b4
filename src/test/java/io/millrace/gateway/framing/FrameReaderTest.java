package io.millrace.gateway.framing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.ReadStream;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The TCP gateway's framer, fed size-prefixed frames the way {@link TcpConnection} reads them (a 4-byte size record,
 * then a body of that size): chunks split anywhere, many frames in one chunk, pause and resume from inside the
 * record handler, bodies that are private copies, and the stream ending inside a frame; last, over a real socket.
 */
@ExtendWith(VertxExtension.class)
class FrameReaderTest {

    /** Six bodies of different sizes (1 to 36 bytes) and contents. */
    private static final List<byte[]> BODIES = IntStream.range(0, 6).mapToObj(FrameReaderTest::body).toList();
    private static final byte[] STREAM = frames(BODIES);

    @Test
    void everyWayOfCuttingTheStreamInThreeChunksYieldsTheFrames() {
        for (int first = 0; first <= STREAM.length; first++) {
            for (int second = first; second <= STREAM.length; second++) {
                Frames frames = new Frames();
                frames.stream.send(STREAM, 0, first);
                frames.stream.send(STREAM, first, second);
                frames.stream.send(STREAM, second, STREAM.length);

                assertThat(frames.bodies()).as("chunks cut at %d and %d", first, second)
                        .containsExactlyElementsOf(BODIES);
            }
        }
    }

    @Test
    void aChunkOfOneByteAtATimeYieldsTheFrames() {
        Frames frames = new Frames();
        for (int i = 0; i < STREAM.length; i++) {
            frames.stream.send(STREAM, i, i + 1);
        }

        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES);
    }

    @Test
    void eachRecordsStartIsReportedWhenItsFirstByteIsTakenInNotWhenItIsWhole() {
        Frames frames = new Frames();
        List<Integer> startsSeenAtBodies = new ArrayList<>();
        frames.reader.recordStartHandler(() -> startsSeenAtBodies.add(frames.received.size()));
        byte[] first = frames(List.of(BODIES.get(2)));

        frames.stream.send(first, 0, 1);
        assertThat(startsSeenAtBodies).as("the size field's first byte").containsExactly(0);
        frames.stream.send(first, 1, 5);
        assertThat(startsSeenAtBodies).as("and the body's").containsExactly(0, 0);
        frames.stream.send(first, 5, first.length);
        assertThat(startsSeenAtBodies).as("nothing more until the next frame").containsExactly(0, 0);
        frames.stream.send(STREAM, 0, STREAM.length);

        assertThat(startsSeenAtBodies).hasSize(2 + 2 * BODIES.size());
        assertThat(frames.bodies()).hasSize(1 + BODIES.size());
    }

    @Test
    void manyFramesInOneChunkAreHandedOutBeforeTheChunkReturns() {
        List<byte[]> many = IntStream.range(0, 500).mapToObj(FrameReaderTest::body).toList();
        byte[] chunk = frames(many);
        Frames frames = new Frames();

        frames.stream.send(chunk, 0, chunk.length);

        assertThat(frames.bodies()).containsExactlyElementsOf(many);
        assertThat(frames.stream.calls).isEmpty();
    }

    @Test
    void pausedInsideAChunkItHandsOutNothingMoreUntilResumedThenTheRestBeforeResumingTheStream() {
        Frames frames = new Frames();
        frames.pauseAfter(2);

        frames.stream.send(STREAM, 0, STREAM.length);

        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES.subList(0, 2));
        assertThat(frames.stream.calls).containsExactly("pause");

        List<Boolean> streamPausedWhileHandedOut = new ArrayList<>();
        frames.afterBody = f -> streamPausedWhileHandedOut.add(f.stream.paused);
        frames.reader.resume();

        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES);
        assertThat(streamPausedWhileHandedOut).containsOnly(true).hasSize(BODIES.size() - 2);
        assertThat(frames.stream.calls).containsExactly("pause", "resume");
    }

    @Test
    void pausedAgainWhileResumingItStopsAgainAndTheStreamStaysPaused() {
        Frames frames = new Frames();
        frames.afterBody = f -> f.reader.pause();

        frames.stream.send(STREAM, 0, STREAM.length);
        for (int resumed = 1; resumed < BODIES.size(); resumed++) {
            frames.reader.resume();
            assertThat(frames.received).hasSize(resumed + 1);
            assertThat(frames.stream.paused).isTrue();
        }

        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES);
        assertThat(frames.stream.calls).containsExactly("pause");
    }

    @Test
    void bytesTheStreamDeliversWhilePausedAreKeptInOrder() {
        Frames frames = new Frames();
        frames.stream.honoursPause = false;
        frames.pauseAfter(1);
        int half = STREAM.length / 2;

        frames.stream.send(STREAM, 0, half);
        frames.stream.send(STREAM, half, STREAM.length);

        assertThat(frames.received).hasSize(1);
        frames.reader.resume();
        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES);
    }

    @Test
    void theHandlerMayResumeAtOnceAndTheStreamMayDeliverWhileItRuns() {
        Frames frames = new Frames();
        int half = STREAM.length / 2;
        frames.afterBody = f -> {
            f.reader.pause();
            if (f.received.size() == 1) {
                // What a socket may do on resume: deliver the chunk it held, inside the call.
                f.stream.send(STREAM, half, STREAM.length);
            }
            f.reader.resume();
        };

        frames.stream.send(STREAM, 0, half);

        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES);
        assertThat(frames.stream.paused).isFalse();
    }

    @Test
    void theSizeCanChangeBetweenRecordsOnly() {
        Frames frames = new Frames();
        frames.stream.send(STREAM, 0, 2);

        assertThatThrownBy(() -> frames.reader.fixedSizeMode(8)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> frames.reader.fixedSizeMode(0)).isInstanceOf(IllegalArgumentException.class);
        frames.stream.send(STREAM, 2, STREAM.length);
        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES);
    }

    @Test
    void eachBodyIsAPrivateArrayOfExactlyItsSize() {
        Frames frames = new Frames();
        Buffer chunk = Buffer.buffer(STREAM);

        frames.stream.handler.handle(chunk);
        for (int i = 0; i < chunk.length(); i++) {
            chunk.setByte(i, (byte) 0);
        }
        for (ByteBuffer body : frames.received) {
            body.put(0, (byte) 0x7f);
        }

        for (int i = 0; i < BODIES.size(); i++) {
            ByteBuffer body = frames.received.get(i);
            assertThat(body.position()).isZero();
            assertThat(body.arrayOffset()).isZero();
            assertThat(body.array()).hasSize(BODIES.get(i).length);
            byte[] expected = BODIES.get(i).clone();
            expected[0] = 0x7f;
            assertThat(body.array()).as("body %d", i).isEqualTo(expected);
        }
    }

    @Test
    void theEndTellsHowMuchOfTheUnfinishedRecordWasRead() {
        int[] frameStarts = new int[BODIES.size() + 1];
        for (int i = 0; i < BODIES.size(); i++) {
            frameStarts[i + 1] = frameStarts[i] + 4 + BODIES.get(i).length;
        }
        for (int cut = 0; cut <= STREAM.length; cut++) {
            Frames frames = new Frames();

            frames.stream.send(STREAM, 0, cut);
            frames.stream.end();

            int whole = 0;
            while (whole < BODIES.size() && frameStarts[whole + 1] <= cut) {
                whole++;
            }
            int intoFrame = cut - frameStarts[whole];
            int unfinished = intoFrame <= 4 ? intoFrame % 4 : intoFrame - 4;
            assertThat(frames.bodies()).as("cut at %d", cut).containsExactlyElementsOf(BODIES.subList(0, whole));
            assertThat(frames.ends).as("cut at %d", cut).containsExactly(unfinished);
        }
    }

    @Test
    void anEndWhilePausedWaitsForTheRecordsBeforeIt() {
        Frames frames = new Frames();
        frames.stream.honoursPause = false;
        frames.pauseAfter(1);

        frames.stream.send(STREAM, 0, STREAM.length - 1);
        frames.stream.end();

        assertThat(frames.ends).isEmpty();
        frames.reader.resume();
        assertThat(frames.bodies()).containsExactlyElementsOf(BODIES.subList(0, BODIES.size() - 1));
        assertThat(frames.ends).containsExactly(BODIES.get(BODIES.size() - 1).length - 1);
        frames.reader.resume();
        assertThat(frames.ends).hasSize(1);
    }

    /**
     * Over loopback: 2 MiB of frames cut wherever TCP cuts them, a pause after the first frame that holds everything
     * else back (the peer's end included), and on resume every frame, then the end inside the last one.
     */
    @Test
    void overARealSocket(Vertx vertx) throws Exception {
        List<byte[]> bodies = IntStream.range(0, 64).mapToObj(i -> {
            byte[] body = new byte[32 * 1024 + i];
            Arrays.fill(body, (byte) i);
            return body;
        }).toList();
        byte[] stream = frames(bodies);
        byte[] cut = Arrays.copyOf(stream, stream.length - 10);
        Queue<byte[]> received = new ConcurrentLinkedQueue<>();
        Queue<Integer> ends = new ConcurrentLinkedQueue<>();
        FrameReader[] reader = new FrameReader[1];
        Context[] context = new Context[1];

        NetServer server = vertx.createNetServer().connectHandler(socket -> {
            context[0] = vertx.getOrCreateContext();
            boolean[] body = new boolean[1];
            reader[0] = new FrameReader(socket, 4, record -> {
                if (!body[0]) {
                    reader[0].fixedSizeMode(record.getInt(0));
                } else {
                    received.add(record.array());
                    reader[0].fixedSizeMode(4);
                    if (received.size() == 1) {
                        reader[0].pause();
                    }
                }
                body[0] = !body[0];
            }, ends::add);
            reader[0].start();
        });
        server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        NetSocket client = vertx.createNetClient().connect(server.actualPort(), "127.0.0.1")
                .await(10, TimeUnit.SECONDS);
        client.write(Buffer.buffer(cut)).onComplete(v -> client.close()); // the write may wait for the resume

        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
        Thread.sleep(300);
        assertThat(received).hasSize(1);
        assertThat(ends).isEmpty();

        context[0].runOnContext(v -> reader[0].resume());
        await().atMost(Duration.ofSeconds(10)).until(() -> ends.size() == 1);
        assertThat(received).containsExactlyElementsOf(bodies.subList(0, bodies.size() - 1));
        assertThat(ends).containsExactly(bodies.get(bodies.size() - 1).length - 10);
        server.close().await(10, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------- fixtures

    private static byte[] body(int i) {
        byte[] body = new byte[1 + (i * 7) % 40];
        for (int j = 0; j < body.length; j++) {
            body[j] = (byte) (i * 64 + j);
        }
        return body;
    }

    private static byte[] frames(List<byte[]> bodies) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] body : bodies) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    /** A reader of size-prefixed frames over a {@link FakeStream}, as TcpConnection switches it. */
    private static final class Frames {
        final FakeStream stream = new FakeStream();
        final List<ByteBuffer> received = new ArrayList<>();
        final List<Integer> ends = new ArrayList<>();
        final FrameReader reader = new FrameReader(stream, 4, this::onRecord, ends::add);
        Consumer<Frames> afterBody = f -> { };
        private boolean inBody;

        Frames() {
            reader.start();
        }

        /** Pauses the reader once it has handed out that many bodies. */
        void pauseAfter(int bodies) {
            afterBody = f -> {
                if (f.received.size() == bodies) {
                    f.reader.pause();
                }
            };
        }

        List<byte[]> bodies() {
            return received.stream().map(ByteBuffer::array).toList();
        }

        private void onRecord(ByteBuffer record) {
            assertThat(record.remaining()).isEqualTo(record.capacity());
            if (inBody) {
                inBody = false;
                received.add(record);
                reader.fixedSizeMode(4);
                afterBody.accept(this);
            } else {
                inBody = true;
                reader.fixedSizeMode(record.getInt(0));
            }
        }
    }

    /**
     * A stream fed by the test. Paused, it holds chunks back and delivers them within {@code resume()}, as a socket
     * may; with {@code honoursPause} false it delivers them at once.
     */
    static final class FakeStream implements ReadStream<Buffer> {
        Handler<Buffer> handler;
        Handler<Void> endHandler;
        boolean paused;
        boolean honoursPause = true;
        final List<String> calls = new ArrayList<>();
        private final ArrayDeque<Buffer> held = new ArrayDeque<>();
        private boolean endHeld;

        void send(byte[] bytes, int from, int to) {
            Buffer chunk = Buffer.buffer(Arrays.copyOfRange(bytes, from, to));
            if (paused && honoursPause) {
                held.add(chunk);
            } else {
                handler.handle(chunk);
            }
        }

        void end() {
            if (paused && honoursPause) {
                endHeld = true;
            } else {
                endHandler.handle(null);
            }
        }

        @Override
        public ReadStream<Buffer> handler(Handler<Buffer> handler) {
            this.handler = handler;
            return this;
        }

        @Override
        public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
            this.endHandler = endHandler;
            return this;
        }

        @Override
        public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
            return this;
        }

        @Override
        public ReadStream<Buffer> pause() {
            calls.add("pause");
            paused = true;
            return this;
        }

        @Override
        public ReadStream<Buffer> resume() {
            calls.add("resume");
            paused = false;
            while (!paused && !held.isEmpty()) {
                handler.handle(held.removeFirst());
            }
            if (!paused && endHeld) {
                endHeld = false;
                endHandler.handle(null);
            }
            return this;
        }

        @Override
        public ReadStream<Buffer> fetch(long amount) {
            throw new UnsupportedOperationException("FrameReader only pauses and resumes");
        }
    }
}
