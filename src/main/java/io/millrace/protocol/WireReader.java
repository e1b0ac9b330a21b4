package io.millrace.protocol;

import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.MillraceException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Reads the primitives of {@link FrameCodec}'s format from one frame, checking every length and count against the
 * bytes that remain before reading or allocating, so hostile input fails with {@link ErrorCode#INVALID_REQUEST}
 * instead of an underflow or an out-of-memory error. Byte positions in error messages count from the frame's apiKey
 * (the first byte after the size prefix).
 *
 * <p>Not thread-safe; one instance per decode.
 */
final class WireReader {

    private final ByteBuffer buffer;
    private final int start;
    private final int version;
    private String what = "frame";
    private CharsetDecoder utf8;

    /** Reads {@code frame} from its position to its limit, without moving them, in the current version's layout. */
    WireReader(ByteBuffer frame) {
        this(frame, FrameCodec.MAX_VERSION);
    }

    /** Reads {@code frame} in the layout of protocol {@code version}. */
    WireReader(ByteBuffer frame, int version) {
        this.buffer = frame.duplicate().order(ByteOrder.BIG_ENDIAN);
        this.start = buffer.position();
        this.version = version;
    }

    /** Names what is being decoded ("PRODUCE request") in error messages from here on. */
    void describing(String what) {
        this.what = what;
    }

    int remaining() {
        return buffer.remaining();
    }

    byte int8(String field) {
        need(1, field);
        return buffer.get();
    }

    short int16(String field) {
        need(2, field);
        return buffer.getShort();
    }

    int int32(String field) {
        need(4, field);
        return buffer.getInt();
    }

    long int64(String field) {
        need(8, field);
        return buffer.getLong();
    }

    /**
     * {@code currentLeaderEpoch int32} (-1 unknown) from protocol version {@value FrameCodec#LEADER_EPOCH_VERSION};
     * on older connections the field is absent and the epoch is unknown.
     */
    int leaderEpoch(String field) {
        if (version < FrameCodec.LEADER_EPOCH_VERSION) {
            return LeaderEpoch.UNKNOWN;
        }
        int at = offset();
        int epoch = int32(field);
        if (epoch < LeaderEpoch.UNKNOWN) {
            throw malformed(at, field, "is " + epoch + "; it must be -1 (unknown) or >= 0");
        }
        return epoch;
    }

    /** A string that may be null (length -1). */
    String nullableString(String field) {
        int at = offset();
        short length = int16(field);
        if (length == -1) {
            return null;
        }
        if (length < 0) {
            throw malformed(at, field, "has invalid string length " + length);
        }
        need(length, field);
        ByteBuffer bytes = buffer.slice(buffer.position(), length);
        buffer.position(buffer.position() + length);
        if (utf8 == null) {
            utf8 = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
        }
        try {
            CharBuffer chars = utf8.reset().decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw malformed(at, field, "is not valid UTF-8");
        }
    }

    /** A string that must not be null. */
    String string(String field) {
        int at = offset();
        String s = nullableString(field);
        if (s == null) {
            throw malformed(at, field, "is null but is required");
        }
        return s;
    }

    /** Bytes that must not be null, as a slice sharing the frame's content (no copy), position 0. */
    ByteBuffer bytes(String field) {
        int at = offset();
        int length = int32(field);
        if (length < 0) {
            throw malformed(at, field, length == -1 ? "is null but is required" : "has invalid length " + length);
        }
        need(length, field);
        ByteBuffer bytes = buffer.slice(buffer.position(), length);
        buffer.position(buffer.position() + length);
        return bytes;
    }

    /**
     * An array count that must not be -1 (null), checked against the remaining bytes: each element takes at least
     * {@code minElementBytes}, so a count that cannot fit is rejected before anything is allocated.
     */
    int count(String field, int minElementBytes) {
        int at = offset();
        int count = int32(field);
        if (count < 0) {
            throw malformed(at, field, count == -1 ? "is null but is required" : "has negative count " + count);
        }
        return checkFits(at, field, count, minElementBytes);
    }

    /** An array count that may be -1 (null); returns -1 for null. */
    int nullableCount(String field, int minElementBytes) {
        int at = offset();
        int count = int32(field);
        if (count == -1) {
            return -1;
        }
        if (count < 0) {
            throw malformed(at, field, "has negative count " + count);
        }
        return checkFits(at, field, count, minElementBytes);
    }

    private int checkFits(int at, String field, int count, int minElementBytes) {
        if ((long) count * minElementBytes > buffer.remaining()) {
            throw malformed(at, field, "declares " + count + " elements of at least " + minElementBytes
                    + " bytes but only " + buffer.remaining() + " bytes remain");
        }
        return count;
    }

    /** {@code int32[]}, not null. */
    List<Integer> int32Array(String field) {
        int n = count(field, 4);
        List<Integer> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            values.add(buffer.getInt()); // count() checked that all n fit
        }
        return Collections.unmodifiableList(values);
    }

    /** {@code int32[]} that may be null (count -1). */
    Optional<List<Integer>> nullableInt32Array(String field) {
        int n = nullableCount(field, 4);
        if (n == -1) {
            return Optional.empty();
        }
        List<Integer> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            values.add(buffer.getInt()); // nullableCount() checked that all n fit
        }
        return Optional.of(Collections.unmodifiableList(values));
    }

    /** {@code string[]}, not null, of non-null strings. */
    List<String> stringArray(String field) {
        return strings(field, count(field, 2));
    }

    /** {@code string[]} that may be null, of non-null strings. */
    Optional<List<String>> nullableStringArray(String field) {
        int n = nullableCount(field, 2);
        return n == -1 ? Optional.empty() : Optional.of(strings(field, n));
    }

    private List<String> strings(String field, int n) {
        List<String> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            values.add(string(field));
        }
        return Collections.unmodifiableList(values);
    }

    /** {@code [string key, string value][]}, not null; keys unique, neither keys nor values null. */
    Map<String, String> stringMap(String field) {
        int n = count(field, 4);
        Map<String, String> map = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            int at = offset();
            String key = string(field);
            String value = string(field);
            if (map.put(key, value) != null) {
                throw malformed(at, field, "repeats the key '" + key + "'");
            }
        }
        return Collections.unmodifiableMap(map);
    }

    /** {@code int16 errorCode, string errorMessage}: empty for code 0, whose message must be null. */
    Optional<ApiError> error(String field) {
        int at = offset();
        short code = int16(field);
        String message = nullableString(field);
        if (code == 0) {
            if (message != null) {
                throw malformed(at, field, "has error code 0 (none) but a message");
            }
            return Optional.empty();
        }
        ErrorCode known = ErrorCode.forCode(code);
        if (version >= FrameCodec.LEADER_HINT_VERSION && ApiError.carriesLeader(known)) {
            int hintAt = offset();
            int leaderId = int32(field + ".leaderId");
            int leaderEpoch = int32(field + ".leaderEpoch");
            if (leaderId < -1 || leaderEpoch < -1) {
                throw malformed(hintAt, field, "has a leader hint out of range: leader " + leaderId + ", epoch "
                        + leaderEpoch);
            }
            ApiError error = new ApiError(known, message);
            return Optional.of(leaderId < 0 ? error : error.withLeader(new ApiError.LeaderHint(leaderId,
                    leaderEpoch)));
        }
        return Optional.of(new ApiError(known, message));
    }

    /** Fails if bytes remain after the body. */
    void ensureConsumed() {
        if (buffer.hasRemaining()) {
            throw new MillraceException(ErrorCode.INVALID_REQUEST, "Malformed " + what + ": " + buffer.remaining()
                    + " unexpected bytes after the body, at byte " + offset());
        }
    }

    /** A failure to report about the field that starts at frame byte {@code at}. */
    MillraceException malformed(int at, String field, String problem) {
        return new MillraceException(ErrorCode.INVALID_REQUEST,
                "Malformed " + what + ": field '" + field + "' at byte " + at + " " + problem);
    }

    /** The current position in frame bytes. */
    int offset() {
        return buffer.position() - start;
    }

    private void need(int bytes, String field) {
        if (buffer.remaining() < bytes) {
            throw malformed(offset(), field, "needs " + bytes + " bytes but only " + buffer.remaining()
                    + " remain (truncated)");
        }
    }
}
