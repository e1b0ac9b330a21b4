package io.millrace.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.record.TimestampType;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class LogConfigTest {

    @Test
    void defaultsAreKafkasWhereKafkaHasOne() {
        LogConfig c = LogConfig.DEFAULTS;
        assertThat(c.segmentBytes()).isEqualTo(1 << 30);
        assertThat(c.retentionMs()).isEqualTo(7L * 24 * 3600 * 1000);
        assertThat(c.retentionBytes()).isEqualTo(-1);
        assertThat(c.maxMessageBytes()).isEqualTo(1048588);
        assertThat(c.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
    }

    @Test
    void overridesApplyKeyByKeyAndRoundTripThroughTheMap() {
        LogConfig c = LogConfig.from(Map.of("retention.ms", "1000", "message.timestamp.type", "LogAppendTime",
                "cleanup.policy", "delete"));
        assertThat(c.retentionMs()).isEqualTo(1000);
        assertThat(c.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(c.segmentBytes()).isEqualTo(LogConfig.DEFAULTS.segmentBytes());
        assertThat(LogConfig.from(c.asMap())).isEqualTo(c);
    }

    @ParameterizedTest
    @CsvSource({
        "segment.bytes, 10",
        "segment.bytes, 99999999999",
        "segment.ms, 0",
        "retention.ms, -2",
        "retention.bytes, abc",
        "flush.messages, 0",
        "max.message.bytes, 12",
        "message.timestamp.type, Whenever"
    })
    void invalidValuesAreRejectedNamingTheKey(String key, String value) {
        assertThatThrownBy(() -> LogConfig.from(Map.of(key, value)))
                .isInstanceOf(MillraceException.class)
                .hasMessageContaining(key)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG);
    }
}
