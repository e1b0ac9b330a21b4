package io.millrace.gateway.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KafkaErrorsTest {

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void everyErrorCodeHasAKafkaError(ErrorCode code) {
        assertThat(KafkaErrors.BY_CODE).containsKey(code);
    }

    /**
     * A Kafka client retries exactly the errors whose exception is retriable; Millrace's codes that say "retry" must
     * stay retriable in Kafka's words, else a Kafka producer gives up on a leader change. (The group codes are
     * answered as Kafka's group protocol expects, which rejoins rather than retries, so they are left out here.)
     */
    @ParameterizedTest
    @EnumSource(value = ErrorCode.class, names = {"UNKNOWN_TOPIC_OR_PARTITION", "NOT_LEADER", "STORAGE_ERROR",
            "REQUEST_TIMED_OUT", "BROKER_OVERLOADED", "NOT_ENOUGH_REPLICAS", "FENCED_LEADER_EPOCH", "NOT_COORDINATOR",
            "COORDINATOR_LOAD_IN_PROGRESS"})
    void retriableCodesStayRetriable(ErrorCode code) {
        assertThat(KafkaErrors.of(code).exception()).isInstanceOf(RetriableException.class);
    }

    @Test
    void theErrorsKafkaClientsActOnKeepTheirKafkaNames() {
        assertThat(KafkaErrors.of(ErrorCode.NOT_LEADER)).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
        assertThat(KafkaErrors.of(ErrorCode.RECORD_TOO_LARGE)).isEqualTo(Errors.MESSAGE_TOO_LARGE);
        assertThat(KafkaErrors.of(ErrorCode.CORRUPT_RECORD)).isEqualTo(Errors.CORRUPT_MESSAGE);
        assertThat(KafkaErrors.of(ErrorCode.INVALID_TIMESTAMP)).isEqualTo(Errors.INVALID_TIMESTAMP);
        assertThat(KafkaErrors.of(ErrorCode.TOPIC_ALREADY_EXISTS)).isEqualTo(Errors.TOPIC_ALREADY_EXISTS);
    }
}
