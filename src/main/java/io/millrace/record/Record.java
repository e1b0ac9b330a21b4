package io.millrace.record;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One decoded record with its absolute offset and timestamp. Key and value may be null (a null value is a tombstone,
 * as in Kafka); an empty array is distinct from null. Arrays are not copied; treat them as immutable.
 */
public record Record(long offset, long timestamp, byte[] key, byte[] value, List<Header> headers) {

    public Record {
        headers = List.copyOf(Objects.requireNonNull(headers, "headers"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Record other
                && offset == other.offset
                && timestamp == other.timestamp
                && Arrays.equals(key, other.key)
                && Arrays.equals(value, other.value)
                && headers.equals(other.headers);
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(offset);
        h = 31 * h + Long.hashCode(timestamp);
        h = 31 * h + Arrays.hashCode(key);
        h = 31 * h + Arrays.hashCode(value);
        return 31 * h + headers.hashCode();
    }

    @Override
    public String toString() {
        return "Record(offset=" + offset + ", timestamp=" + timestamp + ", key=" + Header.describe(key)
                + ", value=" + Header.describe(value) + ", headers=" + headers + ")";
    }
}
