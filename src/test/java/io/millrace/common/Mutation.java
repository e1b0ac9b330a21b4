package io.millrace.common;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * One piece of damage done to valid input by the decoder fuzz tests (the {@code *FuzzTest} properties, run by jqwik): bit flips,
 * overwritten bytes, length and count fields set to hostile values, truncation, and bytes added or removed. A
 * property draws a list of these and applies them in order; jqwik shrinks a failing list to the fewest, smallest
 * mutations, so a failure names the damage that matters.
 *
 * <p>Every fuzz property fixes its seed to {@link #SEED}, so the normal run is the same every time; the number of
 * tries comes from {@code jqwik.tries.default} (src/test/resources/junit-platform.properties, or a system property
 * for a long run). Stateless and thread-safe.
 *
 * @param kind     what to do
 * @param position where, as a fraction of the current length (so a mutation stays meaningful while shrinking)
 * @param value    the byte, bit, 32-bit value or length the kind needs
 */
public record Mutation(Kind kind, double position, int value) {

    /** The seed of every fuzz property; a string, as {@code @Property(seed = ...)} takes it. */
    public static final String SEED = "20261203";

    /** 32-bit values that length and count fields get wrong most interestingly. */
    private static final List<Integer> HOSTILE_INTS = List.of(-1, -2, 0, 1, 6, 61, 127, 128, 255, 32767, 65535,
            Integer.MAX_VALUE, Integer.MIN_VALUE);

    public enum Kind {
        FLIP_BIT, SET_BYTE, SET_INT32, SET_INT16, TRUNCATE, APPEND, INSERT, DELETE
    }

    /** Up to {@code max} mutations. */
    public static Arbitrary<List<Mutation>> lists(int max) {
        return one().list().ofMinSize(1).ofMaxSize(max);
    }

    /** One mutation of any kind. */
    public static Arbitrary<Mutation> one() {
        Arbitrary<Integer> values = Arbitraries.oneOf(Arbitraries.of(HOSTILE_INTS), Arbitraries.integers(),
                Arbitraries.integers().between(0, 64));
        return Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.doubles().between(0, 1), values)
                .as(Mutation::new);
    }

    /** {@code bytes} with all {@code mutations} applied in order; {@code bytes} itself is not changed. */
    public static byte[] apply(byte[] bytes, List<Mutation> mutations) {
        byte[] out = bytes.clone();
        for (Mutation m : mutations) {
            out = m.apply(out);
        }
        return out;
    }

    /** This mutation applied to a copy of {@code bytes}. */
    public byte[] apply(byte[] bytes) {
        int at = (int) Math.min(bytes.length - 1L, (long) (position * bytes.length));
        int small = Math.floorMod(value, 64) + 1;
        if (bytes.length == 0 && kind != Kind.APPEND && kind != Kind.INSERT) {
            return bytes;
        }
        byte[] out = bytes.clone();
        switch (kind) {
            case FLIP_BIT -> out[at] ^= (byte) (1 << Math.floorMod(value, 8));
            case SET_BYTE -> out[at] = (byte) value;
            case SET_INT32 -> putBigEndian(out, at, value, 4);
            case SET_INT16 -> putBigEndian(out, at, value, 2);
            case TRUNCATE -> out = Arrays.copyOf(bytes, at);
            case APPEND -> out = concat(bytes, bytes.length, filler(small));
            case INSERT -> out = concat(bytes, Math.max(at, 0), filler(small));
            case DELETE -> {
                int end = Math.min(bytes.length, at + small);
                out = new byte[bytes.length - (end - at)];
                System.arraycopy(bytes, 0, out, 0, at);
                System.arraycopy(bytes, end, out, at, bytes.length - end);
            }
        }
        return out;
    }

    /** Bytes derived from the value, so the same mutation always inserts the same bytes. */
    private byte[] filler(int length) {
        byte[] filler = new byte[length];
        new Random(value).nextBytes(filler);
        return filler;
    }

    private static byte[] concat(byte[] bytes, int at, byte[] inserted) {
        byte[] out = new byte[bytes.length + inserted.length];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(inserted, 0, out, at, inserted.length);
        System.arraycopy(bytes, at, out, at + inserted.length, bytes.length - at);
        return out;
    }

    /** Writes the low {@code width} bytes of {@code value}, big-endian, as far as the array goes. */
    private static void putBigEndian(byte[] out, int at, int value, int width) {
        for (int b = 0; b < width && at + b < out.length; b++) {
            out[at + b] = (byte) (value >> (8 * (width - 1 - b)));
        }
    }
}
