package io.millrace.protocol;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.util.Objects;
import java.util.Optional;

/**
 * An error as it travels on the wire: {@code int16 code} ({@link ErrorCode#code()}) and {@code string message}. The
 * absence of an error (wire code 0, message null) is modelled as an empty {@code Optional<ApiError>}, since
 * {@link ErrorCode} has no "none" constant.
 *
 * <p>A code this version does not know decodes as {@link ErrorCode#UNKNOWN} (see {@link ErrorCode#forCode}).
 *
 * <p>From protocol version {@value FrameCodec#LEADER_HINT_VERSION} an error whose code is {@code NOT_LEADER} or
 * {@code FENCED_LEADER_EPOCH} carries the partition's current leader as the answering broker knows it
 * ({@link #leader()}), so a client can switch to it without asking for metadata first. On older connections the
 * hint is not sent.
 *
 * @param code    never null
 * @param message for humans; a null message becomes the code's {@link ErrorCode#description()}, and a message
 *                longer than {@value #MAX_MESSAGE_CHARS} characters is cut there, so that an error always fits
 *                in a wire string (at most 32767 UTF-8 bytes)
 * @param leader  the current leader of the partition the error is about; only for codes that
 *                {@link #carriesLeader(ErrorCode) carry one}, and empty when the broker does not know it
 */
public record ApiError(ErrorCode code, String message, Optional<LeaderHint> leader) {

    /** Longest message kept; 4096 characters are at most 12288 UTF-8 bytes. */
    public static final int MAX_MESSAGE_CHARS = 4096;

    /**
     * Where a partition's leadership is now.
     *
     * @param leaderId    the leader's broker id, >= 0
     * @param leaderEpoch its leader epoch, or -1 if unknown
     */
    public record LeaderHint(int leaderId, int leaderEpoch) {

        public LeaderHint {
            Require.nonNegative(leaderId, "leaderId");
            if (leaderEpoch < -1) {
                throw new IllegalArgumentException("leaderEpoch must be >= -1, was " + leaderEpoch);
            }
        }
    }

    /** An error without a leader hint. */
    public ApiError(ErrorCode code, String message) {
        this(code, message, Optional.empty());
    }

    public ApiError {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(leader, "leader");
        if (leader.isPresent() && !carriesLeader(code)) {
            throw new IllegalArgumentException(code + " carries no leader hint");
        }
        if (message == null) {
            message = code.description();
        } else if (message.length() > MAX_MESSAGE_CHARS) {
            int end = MAX_MESSAGE_CHARS;
            if (Character.isHighSurrogate(message.charAt(end - 1))) {
                end--; // never split a surrogate pair
            }
            message = message.substring(0, end);
        }
    }

    /** The error with the code's default description as its message. */
    public static ApiError of(ErrorCode code) {
        return new ApiError(code, null);
    }

    /** The code and message of an exception, to answer a client with. */
    public static ApiError of(MillraceException e) {
        return new ApiError(e.errorCode(), e.getMessage());
    }

    /** Whether errors with this code carry a {@link LeaderHint} on the wire (from protocol version 3). */
    public static boolean carriesLeader(ErrorCode code) {
        return code == ErrorCode.NOT_LEADER || code == ErrorCode.FENCED_LEADER_EPOCH;
    }

    /** This error with the partition's current leader attached. */
    public ApiError withLeader(LeaderHint hint) {
        return new ApiError(code, message, Optional.of(hint));
    }

    /** This error as an exception, for a client to throw or fail a future with. */
    public MillraceException toException() {
        return new MillraceException(code, message);
    }
}
