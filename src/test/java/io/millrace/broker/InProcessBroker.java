package io.millrace.broker;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.millrace.cluster.PartitionAssignment;
import io.millrace.cluster.ReplicaManager;
import io.millrace.cluster.TopicMetadata;
import io.millrace.common.Acks;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.partition.LocalCodec;
import io.millrace.partition.PartitionSettings;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogLimits;
import io.millrace.storage.StorageHealth;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * A real {@link BrokerService} and partition verticle for one single-partition topic on a plain (non-clustered)
 * Vert.x, without ZooKeeper: the replica manager is given its context by hand and told about the topic with
 * {@link ReplicaManager#sync}, which is all that fetch, produce and subscribe need.
 */
final class InProcessBroker implements AutoCloseable {

    final Vertx vertx;
    final BrokerService broker;
    final TopicPartition tp;
    private int produced;

    InProcessBroker(Path dir, TopicPartition tp, PartitionSettings partitionSettings) throws Exception {
        this.tp = tp;
        vertx = Vertx.vertx();
        vertx.eventBus().registerCodec(new LocalCodec());
        ReplicaManager replicas = new ReplicaManager(0, dir, LogConfig.from(Map.of()),
                new LogLimits(LogConfig.DEFAULTS.maxMessageBytes(), "the default max.message.bytes"), partitionSettings,
                Time.SYSTEM, Runnable::run, null, new StorageHealth(dir, 0), 1_000, 30_000);
        // Not deployed: start() would read ZooKeeper. sync() only needs the verticle's context.
        replicas.init(vertx, vertx.getOrCreateContext());
        replicas.sync(new TopicMetadata(tp.topic(), 1, Map.of(),
                List.of(new PartitionAssignment(0, List.of(0), 0, 0, List.of(0))))).await(10, TimeUnit.SECONDS);
        // fetch, produce and subscribe use neither the metadata store nor the controller
        broker = new BrokerService(vertx, 0, null, replicas, null,
                new BrokerSettings(10_000, partitionSettings.maxFetchWaitMs(), false, 1, 1, true), Time.SYSTEM,
                new BrokerMetrics(new SimpleMeterRegistry()));
    }

    /** Produces batches of the given sizes, values "v-<offset>". */
    void produce(int... batchSizes) throws Exception {
        for (int size : batchSizes) {
            RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
            for (int i = 0; i < size; i++) {
                builder.append(System.currentTimeMillis(), null, ("v-" + produced++).getBytes(StandardCharsets.UTF_8));
            }
            broker.produce(tp, builder.build(), Acks.LEADER).await(10, TimeUnit.SECONDS);
        }
    }

    /** Runs {@code action} on {@code context} and returns what it returned. */
    static <T> T on(Context context, Callable<T> action) throws Exception {
        Promise<T> done = Promise.promise();
        context.runOnContext(v -> {
            try {
                done.complete(action.call());
            } catch (Exception e) {
                done.fail(e);
            }
        });
        return done.future().await(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(30, TimeUnit.SECONDS);
    }
}
