package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogLimits;
import io.vertx.core.Future;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Creating a topic refuses overrides beyond the broker's limits before anything reaches ZooKeeper. */
class TopicConfigLimitsTest {

    private final LogLimits limits = new LogLimits(65_024, "tcp.max.frame.bytes=65536 less 512 bytes of frame fields");
    /** No metadata store: every request here must fail before it needs one. */
    private final TopicAdmin admin = new TopicAdmin(null, null, limits.clamp(LogConfig.DEFAULTS), limits, 0,
            50_000);

    @Test
    void aMaxMessageBytesAboveWhatTheFrameCarriesIsRefusedNamingTheLimit() {
        Future<TopicMetadata> created = admin.createTopic("big", 1, 1, Map.of("max.message.bytes", "10485760"));

        assertThat(created.failed()).isTrue();
        MillraceException refusal = (MillraceException) created.cause();
        assertThat(refusal.errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG);
        assertThat(refusal.getMessage()).contains("max.message.bytes").contains("tcp.max.frame.bytes=65536");
    }

    @Test
    void badTimestampLimitsAreRefusedNamingTheKey() {
        Future<TopicMetadata> created = admin.createTopic("ts", 1, 1,
                Map.of("message.timestamp.after.max.ms", "-5"));

        assertThat(created.failed()).isTrue();
        assertThat(((MillraceException) created.cause()).errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG);
        assertThat(created.cause().getMessage()).contains("message.timestamp.after.max.ms");
    }
}
