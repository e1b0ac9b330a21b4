package io.millrace.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.UnixOperatingSystemMXBean;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.storage.OpenFileBudget;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BrokerConfigTest {

    private static final Path DEFAULTS_FILE = Path.of("conf", "millrace.json");

    @Test
    void theDefaultsFileListsExactlyTheKnownKeys() throws Exception {
        JsonObject file = new JsonObject(Files.readString(DEFAULTS_FILE));
        Set<String> known = Arrays.stream(ConfigKey.values()).map(ConfigKey::key).collect(Collectors.toSet());
        assertThat(file.fieldNames()).isEqualTo(known);
    }

    @Test
    void everyKeyIsDocumentedInOperations() throws Exception {
        String operations = Files.readString(Path.of("docs", "OPERATIONS.md"));
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(operations).as("docs/OPERATIONS.md documents %s", key.key()).contains("`" + key.key() + "`");
        }
    }

    @Test
    void environmentOverridesTheFileAndFlagsOverrideTheEnvironment() {
        BrokerConfig config = BrokerConfig.load(Optional.of(DEFAULTS_FILE),
                Map.of("MILLRACE_HTTP_PORT", "9090", "MILLRACE_TCP_PORT", "9091", "UNRELATED", "x"),
                Map.of("tcp.port", "9092"));
        assertThat(config.getInt(ConfigKey.HTTP_PORT)).isEqualTo(9090);
        assertThat(config.getInt(ConfigKey.TCP_PORT)).isEqualTo(9092);
        assertThat(config.getInt(ConfigKey.BROKER_ID)).isZero();
        assertThat(config.externalZookeeper()).isEmpty();
    }

    @Test
    void logDefaultsBecomeTopicDefaults() {
        BrokerConfig config = BrokerConfig.withOverrides(Map.of("log.retention.ms", "1234", "log.flush.messages", "1"));
        assertThat(config.logDefaults().retentionMs()).isEqualTo(1234);
        assertThat(config.logDefaults().flushMessages()).isEqualTo(1);
    }

    @Test
    void timestampLimitsAndTheProducerCapReachTheLogDefaults() {
        BrokerConfig config = BrokerConfig.withOverrides(Map.of("log.message.timestamp.after.max.ms", "1000",
                "log.message.timestamp.before.max.ms", "2000", "max.producer.states.per.partition", "5"));
        assertThat(config.logDefaults().timestampAfterMaxMs()).isEqualTo(1000);
        assertThat(config.logDefaults().timestampBeforeMaxMs()).isEqualTo(2000);
        assertThat(config.logDefaults().maxProducerStates()).isEqualTo(5);
        assertThat(BrokerConfig.withOverrides(Map.of()).logDefaults().timestampBeforeMaxMs())
                .isEqualTo(Long.MAX_VALUE);
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("max.producer.states.per.partition", "0")))
                .hasMessageContaining("max.producer.states.per.partition");
    }

    @Test
    void maxMessageBytesIsBoundedByWhatATcpFrameCarries() {
        BrokerConfig config = BrokerConfig.withOverrides(Map.of("tcp.max.frame.bytes", "65536"));
        assertThat(config.logLimits().maxMessageBytes()).isEqualTo(65536 - 512);
        assertThat(config.logLimits().reason()).contains("tcp.max.frame.bytes=65536");
        assertThat(config.logDefaults().maxMessageBytes()).as("the 1 MiB default, brought within the frame")
                .isEqualTo(65536 - 512);
        assertThat(BrokerConfig.withOverrides(Map.of()).logDefaults().maxMessageBytes()).isEqualTo(1048588);
    }

    @Test
    void unknownKeysAndBadValuesNameTheKey() {
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("http.prot", "1")))
                .isInstanceOf(MillraceException.class).hasMessageContaining("http.prot");
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("http.port", "eighty")))
                .hasMessageContaining("http.port");
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("auto.create.topics.enable", "yes")))
                .hasMessageContaining("auto.create.topics.enable");
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("log.segment.bytes", "5")))
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG);
    }

    @Test
    void thePushLingerIsOffByDefaultAndBoundedToASecond() {
        assertThat(BrokerConfig.withOverrides(Map.of()).webSocketPushLingerMs()).isZero();
        assertThat(BrokerConfig.withOverrides(Map.of("ws.push.linger.ms", "50")).webSocketPushLingerMs())
                .isEqualTo(50);
        for (String bad : new String[] {"-1", "1001"}) {
            assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("ws.push.linger.ms", bad)))
                    .isInstanceOf(MillraceException.class).hasMessageContaining("ws.push.linger.ms")
                    .hasMessageContaining("was " + bad);
        }
    }

    @Test
    void eventLoopThreadsDefaultToOnePerCoreAndRefuseNegativeCounts() {
        assertThat(BrokerConfig.withOverrides(Map.of()).eventLoopThreads())
                .isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(BrokerConfig.withOverrides(Map.of("event.loop.threads", "3")).eventLoopThreads()).isEqualTo(3);
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("event.loop.threads", "-1")))
                .isInstanceOf(MillraceException.class).hasMessageContaining("event.loop.threads");
    }

    @Test
    void openSegmentFilesDefaultToHalfTheDescriptorLimitAndNeedRoomForOneSegment() {
        int derived = BrokerConfig.withOverrides(Map.of()).logMaxOpenFiles();
        assertThat(derived).isEqualTo(OpenFileBudget.defaultMaxOpenFiles()).isGreaterThanOrEqualTo(3);
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            assertThat((long) derived).isLessThanOrEqualTo(unix.getMaxFileDescriptorCount() / 2);
        }
        assertThat(BrokerConfig.withOverrides(Map.of("log.max.open.files", "16")).logMaxOpenFiles()).isEqualTo(16);
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("log.max.open.files", "2")))
                .isInstanceOf(MillraceException.class).hasMessageContaining("log.max.open.files");
    }

    @Test
    void maxPartitionsDefaultsToWhatTheHeapHoldsAndAnExplicitValueWins() {
        assertThat(BrokerConfig.withOverrides(Map.of()).maxPartitions())
                .isEqualTo(BrokerConfig.maxPartitionsForHeap(Runtime.getRuntime().maxMemory()));
        assertThat(BrokerConfig.withOverrides(Map.of("max.partitions", "70000")).maxPartitions()).isEqualTo(70_000);
        assertThat(BrokerConfig.withOverrides(Map.of("max.partitions", "12")).maxPartitions()).isEqualTo(12);
        assertThatThrownBy(() -> BrokerConfig.withOverrides(Map.of("max.partitions", "-1")))
                .isInstanceOf(MillraceException.class).hasMessageContaining("max.partitions");
    }

    @ParameterizedTest(name = "-Xmx{0}m holds {1} partitions")
    @CsvSource({
            "256, 20480",   // bin/millrace's default heap: a topic of 20,000 partitions fits
            "128, 4096",
            "64, 1000",     // less than the reserve: the floor
            "480, 49152",
            "512, 50000",   // the ceiling
            "16384, 50000"})
    void theDerivedCapLeavesTheReserveAndEightKibibytesAPartition(long heapMib, int expected) {
        assertThat(BrokerConfig.maxPartitionsForHeap(heapMib * 1024 * 1024)).isEqualTo(expected);
    }

    @Test
    void theDerivedCapLeavesAThirdOfTheDefaultHeapFreeAtTheMeasuredCost() {
        long heap = 256L * 1024 * 1024;
        double measuredBytesPerPartition = 7.2 * 1024;
        long idleBroker = 14L * 1024 * 1024;
        double used = idleBroker + BrokerConfig.maxPartitionsForHeap(heap) * measuredBytesPerPartition;
        assertThat(heap - used).isGreaterThan(heap / 3.0);
    }

    @Test
    void anIncompleteFileIsRejected(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("partial.json");
        Files.writeString(file, "{\"broker.id\": 3}");
        assertThatThrownBy(() -> BrokerConfig.load(Optional.of(file), Map.of(), Map.of()))
                .hasMessageContaining("has no value");
        Files.writeString(file, "{not json");
        assertThatThrownBy(() -> BrokerConfig.load(Optional.of(file), Map.of(), Map.of()))
                .hasMessageContaining("not valid JSON");
    }
}
