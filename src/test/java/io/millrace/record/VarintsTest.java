package io.millrace.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class VarintsTest {

    @ParameterizedTest(name = "varint {0} takes {1} bytes")
    @CsvSource({
        "0, 1", "-1, 1", "1, 1", "63, 1", "-64, 1", "64, 2", "-65, 2", "8191, 2", "8192, 3",
        "2147483647, 5", "-2147483648, 5"
    })
    void varintRoundTripsWithKafkaSizes(int value, int expectedSize) {
        ByteBuffer buffer = ByteBuffer.allocate(5);
        Varints.writeVarint(value, buffer);

        assertThat(buffer.position()).isEqualTo(expectedSize);
        assertThat(Varints.sizeOfVarint(value)).isEqualTo(expectedSize);
        assertThat(Varints.readVarint(buffer.flip())).isEqualTo(value);
        assertThat(buffer.hasRemaining()).isFalse();
    }

    @ParameterizedTest(name = "varlong {0} takes {1} bytes")
    @CsvSource({
        "0, 1", "-1, 1", "1, 1", "-64, 1", "64, 2", "2147483647, 5", "-2147483648, 5", "2147483648, 5",
        "9223372036854775807, 10", "-9223372036854775808, 10"
    })
    void varlongRoundTripsWithKafkaSizes(long value, int expectedSize) {
        ByteBuffer buffer = ByteBuffer.allocate(10);
        Varints.writeVarlong(value, buffer);

        assertThat(buffer.position()).isEqualTo(expectedSize);
        assertThat(Varints.sizeOfVarlong(value)).isEqualTo(expectedSize);
        assertThat(Varints.readVarlong(buffer.flip())).isEqualTo(value);
    }

    @Test
    void zigZagKeepsSmallNegativesShort() {
        ByteBuffer buffer = ByteBuffer.allocate(4);
        Varints.writeVarint(-1, buffer);
        Varints.writeVarint(1, buffer);
        Varints.writeVarint(-2, buffer);

        assertThat(buffer.flip()).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2, 3}));
    }

    @Test
    void randomValuesRoundTrip() {
        Random random = new Random(42);
        ByteBuffer buffer = ByteBuffer.allocate(15);
        for (int i = 0; i < 100_000; i++) {
            int intValue = random.nextInt() >> random.nextInt(32);
            long longValue = random.nextLong() >> random.nextInt(64);
            buffer.clear();
            Varints.writeVarint(intValue, buffer);
            Varints.writeVarlong(longValue, buffer);
            assertThat(buffer.position()).isEqualTo(Varints.sizeOfVarint(intValue) + Varints.sizeOfVarlong(longValue));
            buffer.flip();
            assertThat(Varints.readVarint(buffer)).isEqualTo(intValue);
            assertThat(Varints.readVarlong(buffer)).isEqualTo(longValue);
        }
    }

    @Test
    void varintLongerThanFiveBytesIsRejected() {
        ByteBuffer sixBytes = ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
            (byte) 0xff, 0x01});

        assertThatThrownBy(() -> Varints.readVarint(sixBytes)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void varlongLongerThanTenBytesIsRejected() {
        byte[] elevenBytes = new byte[11];
        java.util.Arrays.fill(elevenBytes, (byte) 0xff);
        elevenBytes[10] = 1;

        assertThatThrownBy(() -> Varints.readVarlong(ByteBuffer.wrap(elevenBytes)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void truncatedVarintUnderflows(int bytes) {
        ByteBuffer buffer = ByteBuffer.allocate(5);
        Varints.writeVarint(Integer.MIN_VALUE, buffer);
        buffer.flip().limit(bytes);

        assertThatThrownBy(() -> Varints.readVarint(buffer)).isInstanceOf(BufferUnderflowException.class);
    }
}
