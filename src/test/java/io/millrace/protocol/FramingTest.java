package io.millrace.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.protocol.ProduceRequest.Acks;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Cutting a byte stream into frames, as the server's and the SDK's transports do. */
class FramingTest {

    private static final int MAX = 1 << 20;

    private List<Frame<Request>> frames;
    private byte[] stream;

    @BeforeEach
    void threeFramesBackToBack() {
        frames = List.of(
                new Frame<>(1, HandshakeRequest.of("sdk")),
                new Frame<>(2, new ProduceRequest(Acks.ALL, 100, "orders",
                        List.of(new ProduceRequest.PartitionData(0, Samples.batches())))),
                new Frame<>(3, new ListTopicsRequest()));
        stream = FrameCodecTest.concat(frames.stream().<ByteBuffer>map(FrameCodec::encode).toList());
    }

    @Test
    void completeFrameSizeAtEveryPrefixOfTheStream() {
        int first = FrameCodec.encode(frames.get(0)).remaining();

        for (int k = 0; k <= stream.length; k++) {
            ByteBuffer partial = ByteBuffer.wrap(stream, 0, k);

            OptionalInt size = FrameCodec.completeFrameSize(partial, MAX);

            if (k < first) {
                assertThat(size).as("prefix of %d bytes", k).isEmpty();
            } else {
                assertThat(size).as("prefix of %d bytes", k).hasValue(first - 4);
            }
            assertThat(partial.position()).isZero();
        }
    }

    @Test
    void everySplitPointOfTheStreamYieldsTheThreeFrames() {
        for (int split = 0; split <= stream.length; split++) {
            Receiver receiver = new Receiver();

            receiver.receive(stream, 0, split);
            receiver.receive(stream, split, stream.length - split);

            assertThat(receiver.decoded).as("split at %d", split).isEqualTo(frames);
            assertThat(receiver.buffer.position()).as("nothing left over").isZero();
        }
    }

    @Test
    void byteByByteDeliveryYieldsTheThreeFrames() {
        Receiver receiver = new Receiver();

        for (int i = 0; i < stream.length; i++) {
            receiver.receive(stream, i, 1);
        }

        assertThat(receiver.decoded).isEqualTo(frames);
    }

    @Test
    void completeFrameSizeReadsFromThePositionAndIgnoresTheBufferOrder() {
        ByteBuffer buffer = ByteBuffer.allocate(stream.length + 3).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(new byte[] {9, 9, 9}).put(stream).flip().position(3);

        OptionalInt size = FrameCodec.completeFrameSize(buffer, MAX);

        assertThat(size).hasValue(FrameCodec.encode(frames.get(0)).remaining() - 4);
        assertThat(buffer.position()).isEqualTo(3);
    }

    @Test
    void nextFrameTakesOneFrameAndMovesPastIt() {
        ByteBuffer buffer = ByteBuffer.wrap(stream);
        List<Frame<Request>> decoded = new ArrayList<>();

        Optional<ByteBuffer> frame;
        while ((frame = FrameCodec.nextFrame(buffer, MAX)).isPresent()) {
            decoded.add(FrameCodec.decodeRequest(frame.get()));
        }

        assertThat(decoded).isEqualTo(frames);
        assertThat(buffer.hasRemaining()).isFalse();
    }

    @Test
    void anOversizedFrameFailsAsSoonAsItsSizeFieldArrives() {
        ByteBuffer sizeOnly = ByteBuffer.allocate(4).putInt(MAX + 1).flip();

        assertThatThrownBy(() -> FrameCodec.completeFrameSize(sizeOnly, MAX))
                .isInstanceOfSatisfying(FrameTooLargeException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.FRAME_TOO_LARGE);
                    assertThat(e.size()).isEqualTo(MAX + 1);
                    assertThat(e.maxFrameBytes()).isEqualTo(MAX);
                    assertThat(e).hasMessageContaining(String.valueOf(MAX + 1));
                });
    }

    @ParameterizedTest
    @ValueSource(ints = {MAX + 1, Integer.MAX_VALUE})
    void sizesAboveTheLimitAreFrameTooLarge(int size) {
        assertThatThrownBy(() -> FrameCodec.checkFrameSize(size, MAX))
                .isInstanceOf(FrameTooLargeException.class)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.FRAME_TOO_LARGE);
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 1, 5})
    void sizesBelowTheHeaderAreMalformed(int size) {
        assertThatThrownBy(() -> FrameCodec.checkFrameSize(size, MAX))
                .isInstanceOf(MillraceException.class)
                .isNotInstanceOf(FrameTooLargeException.class)
                .hasMessageContaining(String.valueOf(size))
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
        ByteBuffer prefix = ByteBuffer.allocate(4).putInt(size).flip();
        assertThatThrownBy(() -> FrameCodec.completeFrameSize(prefix, MAX))
                .isInstanceOf(MillraceException.class);
    }

    @Test
    void sizesAtTheBoundsAreAccepted() {
        assertThat(FrameCodec.checkFrameSize(6, MAX)).isEqualTo(6);
        assertThat(FrameCodec.checkFrameSize(MAX, MAX)).isEqualTo(MAX);
    }

    @Test
    void aLimitBelowTheHeaderIsAProgrammingError() {
        assertThatThrownBy(() -> FrameCodec.checkFrameSize(6, 5)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A transport's read loop: accumulate, take whole frames, compact. */
    private static final class Receiver {
        final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        final List<Frame<Request>> decoded = new ArrayList<>();

        void receive(byte[] bytes, int offset, int length) {
            buffer.put(bytes, offset, length).flip();
            Optional<ByteBuffer> frame;
            while ((frame = FrameCodec.nextFrame(buffer, MAX)).isPresent()) {
                // Decoded batches share the buffer, which compact() overwrites: copy what the test keeps.
                ByteBuffer copy = ByteBuffer.allocate(frame.get().remaining()).put(frame.get()).flip();
                decoded.add(FrameCodec.decodeRequest(copy));
            }
            buffer.compact();
        }
    }
}
