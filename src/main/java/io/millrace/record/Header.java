package io.millrace.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * A record header: a non-null key and a value that may be null. The array is not copied; treat it as immutable.
 */
public record Header(String key, byte[] value) {

    public Header {
        Objects.requireNonNull(key, "header key");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Header other && key.equals(other.key) && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return 31 * key.hashCode() + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Header(" + key + "=" + describe(value) + ")";
    }

    /** A short, readable form of a byte array for {@code toString}: the bytes if few, else only the length. */
    static String describe(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        return bytes.length <= 32 ? Arrays.toString(bytes) : "byte[" + bytes.length + "]";
    }
}
