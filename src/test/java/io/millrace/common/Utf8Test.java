package io.millrace.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class Utf8Test {

    @ParameterizedTest
    @ValueSource(strings = {"", "ascii", "é", "€uro", "😀", "a😀b€é", "\ud800", "x\udc00y", "\ud83d", "\ude00\ud83d"})
    void encodedLengthIsWhatTheJdkEncoderWrites(String s) {
        assertThat(Utf8.encodedLength(s)).isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ascii", "é€", "😀", "a😀b😀"})
    void validUnicodeHasNoUnpairedSurrogate(String s) {
        assertThat(Utf8.unpairedSurrogate(s)).isEqualTo(-1);
    }

    @ParameterizedTest
    @CsvSource({"\ud800, 0", "a\udc00, 1", "ab\ud83d, 2", "abc\ude00\ud83d, 3", "😀\ud800\ud800, 2"})
    void theFirstUnpairedSurrogateIsFound(String s, int index) {
        assertThat(Utf8.unpairedSurrogate(s)).isEqualTo(index);
    }
}
