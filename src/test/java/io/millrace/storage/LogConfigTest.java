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
        assertThat(c.producerIdExpirationMs()).isEqualTo(86_400_000L);
        assertThat(c.timestampAfterMaxMs()).as("Kafka 4's message.timestamp.after.max.ms").isEqualTo(3_600_000L);
        assertThat(c.timestampBeforeMaxMs()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void timestampLimitsAreTopicKeysAndTheProducerCapIsNot() {
        LogConfig c = LogConfig.from(Map.of("message.timestamp.after.max.ms", "5000",
                "message.timestamp.before.max.ms", "86400000", "max.producer.states.per.partition", "1"));
        assertThat(c.timestampAfterMaxMs()).isEqualTo(5000);
        assertThat(c.timestampBeforeMaxMs()).isEqualTo(86_400_000L);
        assertThat(c.maxProducerStates()).as("a topic cannot lift the broker's memory bound")
                .isEqualTo(LogConfig.DEFAULTS.maxProducerStates());

        LogConfig capped = LogConfig.DEFAULTS.withMaxProducerStates(7);
        assertThat(capped.with(Map.of("retention.ms", "1")).maxProducerStates()).isEqualTo(7);
        assertThat(LogConfig.from(c.asMap())).isEqualTo(c);
    }

    @Test
    void limitsRefuseAMaxMessageBytesTheBrokerCannotCarryNamingTheBoundAndClampAStoredOne() {
        LogLimits limits = new LogLimits(65_024, "tcp.max.frame.bytes=65536 less 512 bytes of frame fields");
        LogConfig asked = LogConfig.from(Map.of("max.message.bytes", "65025"));

        assertThatThrownBy(() -> limits.check(asked))
                .hasMessageContaining("max.message.bytes").hasMessageContaining("tcp.max.frame.bytes=65536")
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG);
        assertThat(limits.clamp(asked).maxMessageBytes()).isEqualTo(65_024);
        assertThat(limits.clamp(asked).retentionMs()).isEqualTo(asked.retentionMs());
        LogConfig within = LogConfig.from(Map.of("max.message.bytes", "65024"));
        limits.check(within);
        assertThat(limits.clamp(within)).isSameAs(within);
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
        "message.timestamp.type, Whenever",
        "message.timestamp.after.max.ms, -1",
        "message.timestamp.before.max.ms, -1",
        "message.timestamp.before.max.ms, 99999999999999999999",
        "producer.id.expiration.ms, 0"
    })
    void invalidValuesAreRejectedNamingTheKey(String key, String value) {
        assertThatThrownBy(() -> LogConfig.from(Map.of(key, value)))
                .isInstanceOf(MillraceException.class)
                .hasMessageContaining(key)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG);
    }
}
