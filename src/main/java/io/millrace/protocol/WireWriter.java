package io.millrace.protocol;

import io.millrace.common.Utf8;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes the primitives of {@link FrameCodec}'s format. A counting writer only adds up sizes, so each message's
 * layout is written once and run twice: to size the frame, then to fill an exactly sized buffer.
 *
 * <p>Encoding errors are the caller's bug (a string over 32767 UTF-8 bytes, a frame over 2 GiB) and are thrown as
 * {@link IllegalArgumentException}. Not thread-safe.
 */
final class WireWriter {

    private final ByteBuffer buffer;
    private final int version;
    private long size;

    private WireWriter(ByteBuffer buffer, int version) {
        this.buffer = buffer;
        this.version = version;
    }

    /** A writer that only counts bytes, in the current version's layout. */
    static WireWriter counting() {
        return counting(FrameCodec.MAX_VERSION);
    }

    /** A writer that only counts bytes, in the layout of protocol {@code version}. */
    static WireWriter counting(int version) {
        return new WireWriter(null, version);
    }

    /** A writer into {@code buffer} (big-endian), counting as well, in the current version's layout. */
    static WireWriter into(ByteBuffer buffer) {
        return into(buffer, FrameCodec.MAX_VERSION);
    }

    /** A writer into {@code buffer} (big-endian), counting as well, in the layout of protocol {@code version}. */
    static WireWriter into(ByteBuffer buffer, int version) {
        return new WireWriter(buffer, version);
    }

    long size() {
        return size;
    }

    void int8(int value) {
        size += 1;
        if (buffer != null) {
            buffer.put((byte) value);
        }
    }

    void int16(int value) {
        size += 2;
        if (buffer != null) {
            buffer.putShort((short) value);
        }
    }

    void int32(int value) {
        size += 4;
        if (buffer != null) {
            buffer.putInt(value);
        }
    }

    /**
     * {@code currentLeaderEpoch int32} from protocol version {@value FrameCodec#LEADER_EPOCH_VERSION}; older versions
     * have no such field, so nothing is written (the receiver takes the epoch as unknown and does not check it).
     */
    void leaderEpoch(int epoch) {
        if (version >= FrameCodec.LEADER_EPOCH_VERSION) {
            int32(epoch);
        }
    }

    void int64(long value) {
        size += 8;
        if (buffer != null) {
            buffer.putLong(value);
        }
    }

    void nullableString(String s) {
        if (s == null) {
            int16(-1);
            return;
        }
        if (buffer == null) {
            int length = Utf8.encodedLength(s);
            if (length > Short.MAX_VALUE) {
                throw new IllegalArgumentException("A string of " + length + " UTF-8 bytes exceeds the 32767-byte "
                        + "limit of the wire format: " + s.substring(0, 40) + "...");
            }
            size += 2 + length;
        } else {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            int16(bytes.length);
            size += bytes.length;
            buffer.put(bytes);
        }
    }

    void string(String s) {
        if (s == null) {
            throw new NullPointerException("A required string field is null");
        }
        nullableString(s);
    }

    /** Length and content of {@code bytes} from its position to its limit; the position does not move. */
    void bytes(ByteBuffer bytes) {
        bytesLength(bytes.remaining());
        raw(bytes);
    }

    /** Content of {@code bytes} from its position to its limit, without a length; the position does not move. */
    void raw(ByteBuffer bytes) {
        size += bytes.remaining();
        if (buffer != null) {
            buffer.put(bytes.duplicate());
        }
    }

    /** Only the length field of a {@code bytes} field whose content the caller sends itself. */
    void bytesLength(int length) {
        int32(length);
    }

    void count(int count) {
        int32(count);
    }

    void int32Array(List<Integer> values) {
        count(values.size());
        for (int v : values) {
            int32(v);
        }
    }

    void stringArray(List<String> values) {
        count(values.size());
        for (String s : values) {
            string(s);
        }
    }

    void nullableStringArray(Optional<List<String>> values) {
        if (values.isEmpty()) {
            count(-1);
        } else {
            stringArray(values.get());
        }
    }

    void stringMap(Map<String, String> map) {
        count(map.size());
        for (Map.Entry<String, String> e : map.entrySet()) {
            string(e.getKey());
            string(e.getValue());
        }
    }

    void error(Optional<ApiError> error) {
        if (error.isEmpty()) {
            int16(0);
            nullableString(null);
        } else {
            ApiError e = error.get();
            int16(e.code().code());
            nullableString(e.message());
            if (version >= FrameCodec.LEADER_HINT_VERSION && ApiError.carriesLeader(e.code())) {
                int32(e.leader().map(ApiError.LeaderHint::leaderId).orElse(-1));
                int32(e.leader().map(ApiError.LeaderHint::leaderEpoch).orElse(-1));
            }
        }
    }
}
