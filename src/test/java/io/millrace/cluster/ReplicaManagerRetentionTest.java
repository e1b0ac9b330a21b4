package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.Acks;
import io.millrace.common.TopicPartition;
import io.millrace.partition.LocalCodec;
import io.millrace.partition.PartitionAddress;
import io.millrace.partition.PartitionRequest;
import io.millrace.partition.PartitionSettings;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import io.millrace.storage.LogConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on a broker: the replica manager's one sweep applies every local partition's retention each
 * {@code log.retention.check.interval.ms}, for partitions of a topic created after it started too. Real ZooKeeper.
 */
class ReplicaManagerRetentionTest {

    private static final int BROKER = 0;
    private static final int PARTITIONS = 3;
    private static final long RETENTION_CHECK_MS = 200;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void everyLocalPartitionIsTrimmedToItsRetentionBytesOnTheInterval() throws Exception {
        try (ZooKeeperMetadata zooKeeper = ZooKeeperMetadata.start(dir)) {
            zooKeeper.vertx.eventBus().registerCodec(new LocalCodec());
            ReplicaManager replicas = zooKeeper.deployReplicaManager(BROKER, dir,
                    new PartitionSettings(10_000, 10, RETENTION_CHECK_MS, 1_000));
            // Segments of 1 KiB and a bound of one: a few kilobytes leave whole segments for retention to delete.
            TopicMetadata topic = new TopicMetadata("trimmed", PARTITIONS, Map.of(LogConfig.SEGMENT_BYTES, "1024",
                    LogConfig.RETENTION_BYTES, "1024"), TopicAdmin.assign(List.of(BROKER), 0, PARTITIONS, 1, 0));
            zooKeeper.store.createTopic(topic).await(30, TimeUnit.SECONDS);
            replicas.sync(topic).await(30, TimeUnit.SECONDS);
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(topic.name(), p);
                await().atMost(WAIT).until(() -> replicas.localPartition(tp).isPresent());
                for (int i = 0; i < 40; i++) {
                    produce(zooKeeper, tp, "record " + i + " of a partition that outgrows its retention.bytes");
                }
            }

            await().atMost(WAIT).untilAsserted(() -> assertThat(replicas.localPartitions()).hasSize(PARTITIONS)
                    .allSatisfy(partition -> {
                        assertThat(partition.stats().logStartOffset()).isPositive();
                        assertThat(partition.stats().sizeBytes()).isLessThanOrEqualTo(2 * 1024);
                    }));
        }
    }

    private static void produce(ZooKeeperMetadata zooKeeper, TopicPartition tp, String value) throws Exception {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
        builder.append(System.currentTimeMillis(), null, value.getBytes(StandardCharsets.UTF_8));
        zooKeeper.vertx.eventBus().request(PartitionAddress.of(tp),
                new PartitionRequest.Produce(builder.build(), Acks.ALL), PartitionAddress.delivery(10_000))
                .await(10, TimeUnit.SECONDS);
    }
}
