package io.millrace.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * Variable-length zig-zag integers, exactly as Apache Kafka's {@code ByteUtils} writes them in record bodies.
 *
 * <p>A value is first zig-zag mapped ({@code 0, -1, 1, -2, ...} become {@code 0, 1, 2, 3, ...}) so that small
 * negative numbers stay short, then written seven bits at a time, least significant group first, with the high bit
 * of each byte set when another byte follows. A varint takes 1 to 5 bytes, a varlong 1 to 10.
 *
 * <p>Readers and writers use the buffer's position, like {@link ByteBuffer#get()}. Stateless and thread-safe.
 */
public final class Varints {

    private Varints() {
    }

    /**
     * Reads a zig-zag varint at the buffer's position and advances past it.
     *
     * @throws BufferUnderflowException if the buffer ends inside the varint
     * @throws IllegalArgumentException if the varint is longer than 5 bytes
     */
    public static int readVarint(ByteBuffer buffer) {
        int value = 0;
        int shift = 0;
        int b;
        while (((b = buffer.get()) & 0x80) != 0) {
            value |= (b & 0x7f) << shift;
            shift += 7;
            if (shift > 28) {
                throw new IllegalArgumentException("Varint is too long: the high bit of its 5th byte is set");
            }
        }
        value |= b << shift;
        return (value >>> 1) ^ -(value & 1);
    }

    /**
     * Reads a zig-zag varlong at the buffer's position and advances past it.
     *
     * @throws BufferUnderflowException if the buffer ends inside the varlong
     * @throws IllegalArgumentException if the varlong is longer than 10 bytes
     */
    public static long readVarlong(ByteBuffer buffer) {
        long value = 0L;
        int shift = 0;
        long b;
        while (((b = buffer.get()) & 0x80) != 0) {
            value |= (b & 0x7f) << shift;
            shift += 7;
            if (shift > 63) {
                throw new IllegalArgumentException("Varlong is too long: the high bit of its 10th byte is set");
            }
        }
        value |= b << shift;
        return (value >>> 1) ^ -(value & 1);
    }

    /** Writes {@code value} as a zig-zag varint at the buffer's position (1 to 5 bytes). */
    public static void writeVarint(int value, ByteBuffer buffer) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xffffff80) != 0) {
            buffer.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buffer.put((byte) v);
    }

    /** Writes {@code value} as a zig-zag varlong at the buffer's position (1 to 10 bytes). */
    public static void writeVarlong(long value, ByteBuffer buffer) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xffffffffffffff80L) != 0L) {
            buffer.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buffer.put((byte) v);
    }

    /** The number of bytes {@link #writeVarint} uses for {@code value}. */
    public static int sizeOfVarint(int value) {
        int v = (value << 1) ^ (value >> 31);
        // Each byte carries 7 bits; 32 - leadingZeros is the number of significant bits (at least one byte for 0).
        int bits = 32 - Integer.numberOfLeadingZeros(v);
        return Math.max(1, (bits + 6) / 7);
    }

    /** The number of bytes {@link #writeVarlong} uses for {@code value}. */
    public static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bits = 64 - Long.numberOfLeadingZeros(v);
        return Math.max(1, (bits + 6) / 7);
    }
}
