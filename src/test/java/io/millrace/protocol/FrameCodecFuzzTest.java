package io.millrace.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Mutation;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.BiFunction;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of the native protocol's decoders, both ends and every negotiated version: whatever bytes a
 * peer sends, decoding either yields a well-formed message (one that encodes back to a frame decoding to itself) or
 * fails with {@code INVALID_REQUEST}, never with another exception (an underflow, an index or state error, an
 * out-of-memory error). The size prefix the TCP gateway reads first either passes or fails with a typed error too.
 * {@link HostileFrameTest} holds the named malformations; these properties search around them.
 */
class FrameCodecFuzzTest {

    /** Which end decodes. */
    enum Decoder {
        SERVER(FrameCodec::decodeRequest, Samples.encodedRequestBodies()),
        CLIENT(FrameCodec::decodeResponse, Samples.encodedResponseBodies());

        final BiFunction<ByteBuffer, Integer, Frame<?>> decode;
        final List<byte[]> samples;

        Decoder(BiFunction<ByteBuffer, Integer, Frame<?>> decode, List<ByteBuffer> samples) {
            this.decode = decode;
            this.samples = samples.stream().map(FrameCodecFuzzTest::bytes).toList();
        }
    }

    @Property(seed = Mutation.SEED)
    void randomBytesAreInvalidOrAWellFormedMessage(@ForAll Decoder decoder, @ForAll @Size(max = 200) byte[] frame,
            @ForAll @IntRange(min = FrameCodec.MIN_VERSION, max = FrameCodec.MAX_VERSION) int version) {
        decodeOrReject(decoder, frame, version);
    }

    /** A known apiKey and a body of mostly small values, so decoding gets past counts and lengths into the fields. */
    @Property(seed = Mutation.SEED)
    void everyMessageTypeWithARandomBodyIsInvalidOrWellFormed(@ForAll Decoder decoder, @ForAll ApiKey key,
            @ForAll int correlationId, @ForAll("plausibleBodies") byte[] body,
            @ForAll @IntRange(min = FrameCodec.MIN_VERSION, max = FrameCodec.MAX_VERSION) int version) {
        byte[] frame = ByteBuffer.allocate(FrameCodec.HEADER_BYTES + body.length).putShort(key.id())
                .putInt(correlationId).put(body).array();
        decodeOrReject(decoder, frame, version);
    }

    @Property(seed = Mutation.SEED)
    void mutatedValidFramesAreInvalidOrWellFormed(@ForAll Decoder decoder, @ForAll("sampleIndexes") int sample,
            @ForAll("mutations") List<Mutation> mutations) {
        byte[] valid = decoder.samples.get(sample % decoder.samples.size());
        decodeOrReject(decoder, Mutation.apply(valid, mutations), FrameCodec.MAX_VERSION);
    }

    /**
     * The size prefix, as the gateway reads it off a stream cut anywhere: a frame is complete exactly when its bytes
     * are there, and a size below the header or over the limit fails before any body byte is waited for.
     */
    @Property(seed = Mutation.SEED)
    void theSizePrefixIsAFrameOrATypedError(@ForAll @Size(max = 64) byte[] stream,
            @ForAll @IntRange(min = FrameCodec.HEADER_BYTES, max = 1 << 20) int maxFrameBytes) {
        OptionalInt size;
        try {
            size = FrameCodec.completeFrameSize(ByteBuffer.wrap(stream), maxFrameBytes);
        } catch (FrameTooLargeException e) {
            assertThat(e.errorCode()).isEqualTo(ErrorCode.FRAME_TOO_LARGE);
            assertThat(e.size()).isGreaterThan(maxFrameBytes);
            return;
        } catch (MillraceException e) {
            assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(ByteBuffer.wrap(stream).getInt()).isLessThan(FrameCodec.HEADER_BYTES);
            return;
        }
        if (size.isPresent()) {
            assertThat(size.getAsInt()).isBetween(FrameCodec.HEADER_BYTES, maxFrameBytes);
            assertThat(stream.length).isGreaterThanOrEqualTo(FrameCodec.SIZE_PREFIX_BYTES + size.getAsInt());
        } else if (stream.length >= FrameCodec.SIZE_PREFIX_BYTES) {
            assertThat(stream.length - FrameCodec.SIZE_PREFIX_BYTES).isLessThan(ByteBuffer.wrap(stream).getInt());
        }
    }

    @Provide
    Arbitrary<byte[]> plausibleBodies() {
        Arbitrary<Byte> plausible = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.just((byte) 0)),
                Tuple.of(1, Arbitraries.just((byte) 0xFF)),
                Tuple.of(2, Arbitraries.bytes().between((byte) 1, (byte) 8)),
                Tuple.of(2, Arbitraries.bytes()));
        return plausible.array(byte[].class).ofMaxSize(160);
    }

    @Provide
    Arbitrary<Integer> sampleIndexes() {
        return Arbitraries.integers().between(0, Integer.MAX_VALUE);
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.lists(4);
    }

    /**
     * Decodes {@code frame}: a MillraceException other than INVALID_REQUEST, or any other exception, fails the
     * property; a decoded message must encode (at the same version) to a frame that decodes to the same message.
     */
    static void decodeOrReject(Decoder decoder, byte[] frame, int version) {
        Frame<?> decoded;
        try {
            decoded = decoder.decode.apply(ByteBuffer.wrap(frame), version);
        } catch (MillraceException e) {
            if (e.errorCode() != ErrorCode.INVALID_REQUEST) {
                fail("v" + version + " " + HexFormat.of().formatHex(frame) + " failed with " + e.errorCode(), e);
            }
            return;
        } catch (RuntimeException | Error e) {
            fail("v" + version + " " + HexFormat.of().formatHex(frame) + " escaped as " + e, e);
            return;
        }
        ByteBuffer again = FrameCodec.encode(decoded, version).position(FrameCodec.SIZE_PREFIX_BYTES).slice();
        assertThat(decoder.decode.apply(again, version)).isEqualTo(decoded);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
