package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/**
 * Argument checks for the message records' constructors. They throw {@link IllegalArgumentException}, which
 * {@link FrameCodec} turns into {@code INVALID_REQUEST} when the values came off the wire.
 */
final class Require {

    private Require() {
    }

    static int nonNegative(int value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, was " + value);
        }
        return value;
    }

    static long nonNegative(long value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, was " + value);
        }
        return value;
    }

    static int positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, was " + value);
        }
        return value;
    }

    /** Fits the wire's {@code int16} and is at least {@code min}. */
    static int int16(int value, int min, String name) {
        if (value < min || value > Short.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + Short.MAX_VALUE + "], was "
                    + value);
        }
        return value;
    }

    /** An immutable copy; null elements are rejected. */
    static <T> List<T> list(List<T> list, String name) {
        return List.copyOf(Objects.requireNonNull(list, name));
    }
}
