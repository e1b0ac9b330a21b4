package io.millrace.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bytes from a broken or hostile peer, in both directions: every malformation must surface as a
 * {@link MillraceException} with {@link ErrorCode#INVALID_REQUEST}, never as an underflow, an index error, an
 * out-of-memory error or a silently wrong message.
 */
class HostileFrameTest {

    private static final int MAX = Integer.MAX_VALUE;

    /** Which end decodes. */
    enum Direction {
        SERVER(FrameCodec::decodeRequest, Samples.encodedRequestBodies()),
        CLIENT(FrameCodec::decodeResponse, Samples.encodedResponseBodies());

        final Function<ByteBuffer, Frame<?>> decode;
        final List<ByteBuffer> samples;

        Direction(Function<ByteBuffer, Frame<?>> decode, List<ByteBuffer> samples) {
            this.decode = decode;
            this.samples = samples;
        }
    }

    static MillraceException assertInvalid(Direction direction, ByteBuffer frame) {
        Throwable thrown = null;
        try {
            direction.decode.apply(frame.duplicate());
        } catch (Throwable t) {
            thrown = t;
        }
        assertThat(thrown).as("decoding %s", hex(frame)).isExactlyInstanceOf(MillraceException.class);
        MillraceException e = (MillraceException) thrown;
        assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(ErrorCode.INVALID_REQUEST);
        return e;
    }

    static String hex(ByteBuffer frame) {
        byte[] bytes = new byte[frame.remaining()];
        frame.duplicate().get(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void framesTruncatedAtEveryByteAreInvalid(Direction direction) {
        for (ByteBuffer sample : direction.samples) {
            for (int k = 0; k < sample.remaining(); k++) {
                assertInvalid(direction, sample.slice(0, k));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void streamsTruncatedAtEveryByteHoldNoWholeFrame(Direction direction) {
        for (ByteBuffer sample : direction.samples) {
            ByteBuffer wire = ByteBuffer.allocate(4 + sample.remaining()).putInt(sample.remaining())
                    .put(sample.duplicate()).flip();
            for (int k = 0; k < wire.remaining(); k++) {
                assertThat(FrameCodec.completeFrameSize(wire.slice(0, k), MAX)).isEmpty();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void trailingBytesAfterABodyAreInvalid(Direction direction) {
        for (ByteBuffer sample : direction.samples) {
            ByteBuffer longer = ByteBuffer.allocate(sample.remaining() + 1).put(sample.duplicate()).put((byte) 0)
                    .flip();
            assertThat(assertInvalid(direction, longer)).hasMessageContaining("1 unexpected bytes after the body");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {26, 99, -1, Short.MAX_VALUE, Short.MIN_VALUE})
    void unknownApiKeysAreInvalidAndNamed(int key) {
        ByteBuffer frame = new RawFrame().int16(key).int32(1).int32(0).build();

        for (Direction direction : Direction.values()) {
            assertThat(assertInvalid(direction, frame)).hasMessageContaining("unknown apiKey " + key);
        }
    }

    @Test
    void aPushIsNeverARequestAndACreditNeverAResponse() {
        ByteBuffer push = FrameCodec.encode(1, Push.of("t", 0, 0, Samples.empty()));
        ByteBuffer credit = FrameCodec.encode(1, new CreditRequest(1, 1));

        assertThat(assertInvalid(Direction.SERVER, push.position(4).slice())).hasMessageContaining("PUSH");
        assertThat(assertInvalid(Direction.CLIENT, credit.position(4).slice())).hasMessageContaining("CREDIT");
    }

    static RawFrame request(ApiKey key) {
        return new RawFrame().int16(key.id()).int32(42);
    }

    static RawFrame response(ApiKey key) {
        return new RawFrame().int16(key.id()).int32(42).int16(0).int16(-1);
    }

    static RawFrame produce() {
        return request(ApiKey.PRODUCE).int8(-1).int32(100).string("t");
    }

    static RawFrame handshake(String magic) {
        return request(ApiKey.HANDSHAKE).string(magic);
    }

    static RawFrame subscribe(int kind, long value) {
        return request(ApiKey.SUBSCRIBE).string("t").int32(0).int32(-1).int8(kind).int64(value);
    }

    static Stream<Arguments> malformedFrames() {
        int max = Integer.MAX_VALUE;
        return Stream.of(
                // hostile counts and lengths: checked against the bytes left before anything is allocated
                bad("PRODUCE partitions count MAX", Direction.SERVER, produce().int32(max),
                        "declares 2147483647 elements"),
                bad("PRODUCE partitions count -1", Direction.SERVER, produce().int32(-1), "null but is required"),
                bad("PRODUCE partitions count MIN", Direction.SERVER, produce().int32(Integer.MIN_VALUE),
                        "negative count"),
                bad("PRODUCE batches length MAX", Direction.SERVER, produce().int32(1).int32(0).int32(-1).int32(max),
                        "needs 2147483647 bytes"),
                bad("PRODUCE batches null", Direction.SERVER, produce().int32(1).int32(0).int32(-1).int32(-1),
                        "'batches' at byte 26 is null"),
                bad("PRODUCE batches length -7", Direction.SERVER, produce().int32(1).int32(0).int32(-1).int32(-7),
                        "invalid length -7"),
                bad("PRODUCE leader epoch -2", Direction.SERVER, produce().int32(1).int32(0).int32(-2).int32(0),
                        "'currentLeaderEpoch' at byte 22 is -2"),
                bad("METADATA topics count -2", Direction.SERVER, request(ApiKey.METADATA).int32(-2),
                        "negative count -2"),
                bad("METADATA topics count MAX", Direction.SERVER, request(ApiKey.METADATA).int32(max), "declares"),
                bad("METADATA null topic name", Direction.SERVER, request(ApiKey.METADATA).int32(1).int16(-1),
                        "null but is required"),
                bad("string length -2", Direction.SERVER, request(ApiKey.DELETE_TOPIC).int16(-2),
                        "invalid string length -2"),
                bad("string length 32767, 3 bytes left", Direction.SERVER,
                        request(ApiKey.DELETE_TOPIC).int16(32767).raw((byte) 'a', (byte) 'b', (byte) 'c'),
                        "needs 32767 bytes but only 3 remain"),
                bad("invalid UTF-8", Direction.SERVER,
                        request(ApiKey.DELETE_TOPIC).int16(2).raw((byte) 0xC3, (byte) 0x28), "not valid UTF-8"),
                bad("CREATE_TOPIC config count MAX", Direction.SERVER,
                        request(ApiKey.CREATE_TOPIC).string("t").int32(1).int16(1).int32(max), "declares"),
                bad("CREATE_TOPIC repeated config key", Direction.SERVER,
                        request(ApiKey.CREATE_TOPIC).string("t").int32(1).int16(1).int32(2)
                                .string("k").string("1").string("k").string("2"), "repeats the key 'k'"),
                bad("CREATE_TOPIC null config value", Direction.SERVER,
                        request(ApiKey.CREATE_TOPIC).string("t").int32(1).int16(1).int32(1).string("k").int16(-1),
                        "null but is required"),
                bad("empty frame", Direction.SERVER, new RawFrame(), "'apiKey'"),
                bad("five-byte frame", Direction.CLIENT, new RawFrame().int16(0).int16(0).int8(0), "'correlationId'"),
                // values out of range
                bad("HANDSHAKE wrong magic", Direction.SERVER, handshake("KAFKA"), "not a Millrace client"),
                bad("HANDSHAKE magic null", Direction.SERVER, request(ApiKey.HANDSHAKE).int16(-1),
                        "not a Millrace client"),
                bad("HANDSHAKE min above max", Direction.SERVER, handshake("MILLRACE").int16(3).int16(2).string("c"),
                        "maxVersion"),
                bad("HANDSHAKE negative version", Direction.SERVER,
                        handshake("MILLRACE").int16(-1).int16(2).string("c"), "minVersion"),
                bad("PRODUCE acks 2", Direction.SERVER, request(ApiKey.PRODUCE).int8(2).int32(0).string("t")
                        .int32(0), "acks must be 0, 1 or -1"),
                bad("PRODUCE negative timeout", Direction.SERVER, request(ApiKey.PRODUCE).int8(1).int32(-1)
                        .string("t").int32(0), "timeoutMs"),
                bad("SUBSCRIBE startKind 4", Direction.SERVER, subscribe(4, 0).int32(1).int32(1), "startKind"),
                bad("SUBSCRIBE earliest with a value", Direction.SERVER, subscribe(0, 5).int32(1).int32(1),
                        "must be 0 for EARLIEST"),
                bad("SUBSCRIBE negative offset", Direction.SERVER, subscribe(2, -1).int32(1).int32(1),
                        "start offset"),
                bad("SUBSCRIBE maxBytesPerPush 0", Direction.SERVER, subscribe(1, 0).int32(1).int32(0),
                        "maxBytesPerPush"),
                bad("CREDIT 0", Direction.SERVER, request(ApiKey.CREDIT).int32(1).int32(0), "credits"),
                bad("CREDIT negative", Direction.SERVER, request(ApiKey.CREDIT).int32(1).int32(-5), "credits"),
                bad("LIST_OFFSETS timestamp -3", Direction.SERVER,
                        request(ApiKey.LIST_OFFSETS).string("t").int32(1).int32(0).int64(-3), "timestamp"),
                bad("FETCH negative partition", Direction.SERVER, request(ApiKey.FETCH).int32(0).int32(0).int32(0)
                        .string("t").int32(1).int32(-1).int64(0).int32(0), "partition"),
                bad("CREATE_TOPIC no partitions", Direction.SERVER,
                        request(ApiKey.CREATE_TOPIC).string("t").int32(0).int16(1).int32(0), "partitions"),
                bad("CREATE_TOPIC replication factor 0", Direction.SERVER,
                        request(ApiKey.CREATE_TOPIC).string("t").int32(1).int16(0).int32(0), "replicationFactor"),
                bad("ADD_PARTITIONS negative", Direction.SERVER,
                        request(ApiKey.ADD_PARTITIONS).string("t").int32(-4), "totalPartitions"),
                // responses and pushes
                bad("error code 0 with a message", Direction.CLIENT,
                        new RawFrame().int16(ApiKey.LIST_TOPICS.id()).int32(1).int16(0).string("?").int32(0),
                        "error code 0 (none) but a message"),
                bad("error response with a body", Direction.CLIENT,
                        new RawFrame().int16(ApiKey.LIST_TOPICS.id()).int32(1).int16(6).string("bad").int32(0),
                        "unexpected bytes"),
                bad("METADATA replicas count MAX", Direction.CLIENT, response(ApiKey.METADATA).int32(0).int32(-1)
                        .int32(1).string("t").int16(0).int16(-1).int32(1).int32(0).int32(1).int32(0)
                        .int32(max).raw(new byte[8]), "'replicas'"),
                bad("METADATA leader -2", Direction.CLIENT, response(ApiKey.METADATA).int32(0).int32(-1)
                        .int32(1).string("t").int16(0).int16(-1).int32(1).int32(0).int32(-2).int32(0)
                        .int32(0).int32(0), "leader"),
                bad("METADATA controller -3", Direction.CLIENT, response(ApiKey.METADATA).int32(0).int32(-3)
                        .int32(0), "controllerId"),
                bad("LIST_TOPICS names count MAX", Direction.CLIENT, response(ApiKey.LIST_TOPICS).int32(max),
                        "declares"),
                bad("DESCRIBE_TOPIC partitions count MAX", Direction.CLIENT, response(ApiKey.DESCRIBE_TOPIC)
                        .string("t").int16(1).int32(0).int32(max), "declares"),
                bad("FETCH batches length MAX", Direction.CLIENT, response(ApiKey.FETCH).int32(1).int32(0)
                        .int16(0).int16(-1).int64(0).int64(0).int32(max), "needs 2147483647 bytes"),
                bad("HANDSHAKE maxFrameBytes 0", Direction.CLIENT, response(ApiKey.HANDSHAKE).int16(1).int32(0)
                        .int32(0).int32(1), "maxFrameBytes"),
                bad("PUSH error code 0 with a message", Direction.CLIENT, request(ApiKey.PUSH).string("t").int32(0)
                        .int64(0).int16(0).string("x").int32(0), "error code 0"),
                bad("PUSH batches null", Direction.CLIENT, request(ApiKey.PUSH).string("t").int32(0)
                        .int64(0).int16(0).int16(-1).int32(-1), "null but is required"));
    }

    static Arguments bad(String name, Direction direction, RawFrame frame, String message) {
        return Arguments.of(name, direction, frame.build(), message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedFrames")
    void malformedFramesAreInvalidWithAUsefulMessage(String name, Direction direction, ByteBuffer frame,
            String message) {
        assertThat(assertInvalid(direction, frame)).hasMessageContaining(message);
    }

    @Test
    void aNullTopicListIsAllowedWhereTheFormatSaysSo() {
        ByteBuffer frame = request(ApiKey.METADATA).int32(-1).build();

        assertThat(FrameCodec.decodeRequest(frame).message()).isEqualTo(MetadataRequest.allTopics());
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void randomGarbageIsInvalidOrDecodesToSomethingThatRoundTrips(Direction direction) {
        Random random = new Random(20240601L + direction.ordinal());
        for (int i = 0; i < 30_000; i++) {
            ByteBuffer frame;
            if (i % 3 == 0) {
                byte[] bytes = new byte[random.nextInt(48)];
                random.nextBytes(bytes);
                frame = ByteBuffer.wrap(bytes);
            } else {
                RawFrame raw = new RawFrame().int16(random.nextInt(ApiKey.values().length)).int32(random.nextInt());
                int length = random.nextInt(160);
                for (int b = 0; b < length; b++) {
                    raw.int8(plausibleByte(random));
                }
                frame = raw.build();
            }
            decodeOrReject(direction, frame, "garbage #" + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void mutatedValidFramesAreInvalidOrDecodeToSomethingThatRoundTrips(Direction direction) {
        Random random = new Random(7L + direction.ordinal());
        for (int i = 0; i < 30_000; i++) {
            ByteBuffer sample = direction.samples.get(random.nextInt(direction.samples.size()));
            byte[] bytes = new byte[sample.remaining()];
            sample.duplicate().get(bytes);
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations && bytes.length > 0; m++) {
                int at = random.nextInt(bytes.length);
                switch (random.nextInt(4)) {
                    case 0 -> bytes[at] = (byte) random.nextInt();
                    case 1 -> bytes[at] ^= (byte) (1 << random.nextInt(8));
                    case 2 -> {
                        int value = List.of(-1, -2, 0, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, random.nextInt())
                                .get(random.nextInt(7));
                        for (int b = 0; b < 4 && at + b < bytes.length; b++) {
                            bytes[at + b] = (byte) (value >> (24 - 8 * b));
                        }
                    }
                    default -> bytes = Arrays.copyOf(bytes, at);
                }
            }
            decodeOrReject(direction, ByteBuffer.wrap(bytes), "mutation #" + i);
        }
    }

    /** Mostly zeros and small values, so random bodies get past counts and lengths into deeper fields. */
    private static int plausibleByte(Random random) {
        int roll = random.nextInt(10);
        if (roll < 5) {
            return 0;
        } else if (roll < 6) {
            return 0xFF;
        } else if (roll < 8) {
            return 1 + random.nextInt(8);
        }
        return random.nextInt(256);
    }

    private static void decodeOrReject(Direction direction, ByteBuffer frame, String what) {
        Frame<?> decoded;
        try {
            decoded = direction.decode.apply(frame.duplicate());
        } catch (MillraceException e) {
            if (e.errorCode() != ErrorCode.INVALID_REQUEST) {
                fail(what + " " + hex(frame) + " failed with " + e.errorCode(), e);
            }
            return;
        } catch (Throwable t) {
            fail(what + " " + hex(frame) + " escaped as " + t, t);
            return;
        }
        // Whatever decodes must be a well-formed message: it encodes again and decodes to itself.
        ByteBuffer again = FrameCodec.encode(decoded);
        assertThat(direction.decode.apply(again.position(4).slice())).as(what).isEqualTo(decoded);
    }

    @Test
    void aHostileCountNeverAllocatesBeyondTheFrame() {
        // 64 KiB of zeros claiming two billion partitions: rejected up front, not after allocating a huge list.
        ByteBuffer frame = produce().int32(Integer.MAX_VALUE).raw(new byte[65536]).build();

        assertThatThrownBy(() -> FrameCodec.decodeRequest(frame))
                .isExactlyInstanceOf(MillraceException.class)
                .hasMessageContaining("declares 2147483647 elements of at least 8 bytes but only 65536 bytes remain");
    }
}
