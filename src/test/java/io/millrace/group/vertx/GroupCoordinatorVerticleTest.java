package io.millrace.group.vertx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.group.AssignmentStrategy;
import io.millrace.group.GroupDescription;
import io.millrace.group.GroupListing;
import io.millrace.group.GroupState;
import io.millrace.group.GroupSettings;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.OffsetAndMetadata;
import io.millrace.group.OffsetsTopic;
import io.millrace.partition.LocalCodec;
import io.millrace.partition.PartitionSettings;
import io.millrace.partition.PartitionVerticle;
import io.millrace.storage.LogConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's Vert.x host on real partition verticles of {@value OffsetsTopic#NAME} (two partitions, one led
 * by another broker): commits are durable records that a new host loads, groups of a partition led elsewhere answer
 * NOT_COORDINATOR, groups of a partition whose leadership moves away are unloaded and replayed when it returns, topic
 * changes reach the coordinator, and a snapshot keeps an offsets partition small.
 */
@ExtendWith(VertxExtension.class)
class GroupCoordinatorVerticleTest {

    static final int BROKER = 0;
    static final String TOPIC = "orders";

    @TempDir
    Path dir;
    Vertx vertx;
    final Map<String, Integer> counts = new HashMap<>();
    final Map<TopicPartition, PartitionVerticle> partitions = new HashMap<>();

    /** Who leads partition 1 (partition 0 is always led here). */
    volatile int leaderOfOne = 1;

    /** Partition 0 is led here, partition 1 by {@link #leaderOfOne}. */
    final OffsetsTopicView view = new OffsetsTopicView() {
        @Override
        public Map<String, Integer> partitionCounts() {
            return Map.copyOf(counts);
        }

        @Override
        public OptionalInt leader(TopicPartition tp) {
            return tp.partition() == 0 ? OptionalInt.of(BROKER) : OptionalInt.of(leaderOfOne);
        }

        @Override
        public OptionalLong sizeBytes(TopicPartition tp) {
            PartitionVerticle p = partitions.get(tp);
            return p == null ? OptionalLong.empty() : OptionalLong.of(p.stats().sizeBytes());
        }

        @Override
        public Future<Integer> ensureOffsetsTopic(int partitionCount, int replicationFactor) {
            counts.put(OffsetsTopic.NAME, 2);
            return Future.succeededFuture(2);
        }
    };

    @BeforeEach
    void offsetsPartition(Vertx vertx) throws Exception {
        this.vertx = vertx;
        vertx.eventBus().registerCodec(new LocalCodec());
        counts.put(TOPIC, 4);
        counts.put(OffsetsTopic.NAME, 2);
        for (int p = 0; p < 2; p++) {
            TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, p);
            PartitionVerticle verticle = new PartitionVerticle(tp, dir.resolve(tp.toString()),
                    LogConfig.from(Map.of(LogConfig.SEGMENT_BYTES, "2048", LogConfig.RETENTION_MS, "-1")), BROKER, 0,
                    Time.SYSTEM, Runnable::run, new PartitionSettings(10_000, 10, 60_000, 1_000));
            await(vertx.deployVerticle(verticle));
            partitions.put(tp, verticle);
        }
    }

    /** A group whose offsets live in partition 0 (led here), and one in partition 1 (led elsewhere). */
    static String groupIn(int partition, String prefix) {
        for (int i = 0; ; i++) {
            if (OffsetsTopic.partitionFor(prefix + i, 2) == partition) {
                return prefix + i;
            }
        }
    }

    String hostDeployment;

    GroupCoordinatorVerticle host(long snapshotBytes) throws Exception {
        GroupCoordinatorVerticle host = new GroupCoordinatorVerticle(BROKER, view,
                new GroupCoordinatorVerticle.Settings(2, 1, 5_000, snapshotBytes, 20), Time.SYSTEM,
                new GroupSettings(100, 60_000, 0, 100, 100));
        hostDeployment = await(vertx.deployVerticle(host));
        return host;
    }

    static JoinRequest join(String group) {
        return new JoinRequest(group, "", "client", "127.0.0.1", Set.of(TOPIC), 10_000, 10_000,
                AssignmentStrategy.RANGE);
    }

    @Test
    void aMissingOffsetsTopicIsCreatedByTheFirstGroupRequest() throws Exception {
        counts.remove(OffsetsTopic.NAME);
        String group = groupIn(0, "g");
        GroupCoordinatorVerticle host = host(Long.MAX_VALUE);
        assertThat(counts).as("not created at start-up").doesNotContainKey(OffsetsTopic.NAME);
        assertThat(await(host.listGroups())).as("nothing to list, nothing created").isEmpty();
        assertThat(counts).doesNotContainKey(OffsetsTopic.NAME);
        assertThat(await(host.join(join(group))).partitions()).as("the first join waits for the creation")
                .hasSize(4);
        assertThat(counts).containsEntry(OffsetsTopic.NAME, 2);
    }

    @Test
    void commitsAreDurableRecordsThatANewHostLoads() throws Exception {
        String group = groupIn(0, "g");
        GroupCoordinatorVerticle first = host(Long.MAX_VALUE);
        JoinResult member = await(first.join(join(group)));
        assertThat(member.partitions()).hasSize(4);
        await(first.commitOffsets(group, member.memberId(), member.generation(),
                Map.of(new TopicPartition(TOPIC, 2), OffsetAndMetadata.of(42))));
        assertThat(await(first.fetchOffsets(group, List.of())))
                .containsEntry(new TopicPartition(TOPIC, 2), OffsetAndMetadata.of(42));
        await(vertx.undeploy(hostDeployment));

        GroupCoordinatorVerticle second = host(Long.MAX_VALUE);
        assertThat(await(second.fetchOffsets(group, List.of(new TopicPartition(TOPIC, 2)))))
                .containsEntry(new TopicPartition(TOPIC, 2), OffsetAndMetadata.of(42));
        // membership is not durable: the old member must rejoin
        assertThatThrownBy(() -> await(second.heartbeat(group, member.memberId(), member.generation())))
                .satisfies(e -> assertThat(code(e)).isEqualTo(ErrorCode.UNKNOWN_MEMBER_ID));
    }

    @Test
    void aGroupOfAPartitionLedElsewhereIsNotCoordinatedHere() throws Exception {
        GroupCoordinatorVerticle host = host(Long.MAX_VALUE);
        assertThatThrownBy(() -> await(host.join(join(groupIn(1, "elsewhere")))))
                .satisfies(e -> assertThat(code(e)).isEqualTo(ErrorCode.NOT_COORDINATOR));
    }

    @Test
    void whenLeadershipOfAnOffsetsPartitionMovesHereItsGroupsAreLoadedBeforeTheyAreServed() throws Exception {
        String group = groupIn(1, "moving");
        TopicPartition tp = new TopicPartition(TOPIC, 3);
        leaderOfOne = BROKER;
        GroupCoordinatorVerticle before = host(Long.MAX_VALUE);
        await(before.resetOffsets(group, Map.of(tp, 77L)));
        await(vertx.undeploy(hostDeployment));

        leaderOfOne = 1;
        GroupCoordinatorVerticle host = host(Long.MAX_VALUE);
        assertThatThrownBy(() -> await(host.fetchOffsets(group, List.of(tp))))
                .satisfies(e -> assertThat(code(e)).isEqualTo(ErrorCode.NOT_COORDINATOR));

        leaderOfOne = BROKER; // leadership moves here
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Map<TopicPartition, OffsetAndMetadata> found = Map.of();
        while (System.nanoTime() < deadline && found.isEmpty()) {
            try {
                found = await(host.fetchOffsets(group, List.of(tp)));
            } catch (MillraceException e) {
                assertThat(e.errorCode()).isIn(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR);
                Thread.sleep(10);
            }
        }
        assertThat(found).containsEntry(tp, OffsetAndMetadata.of(77));
    }

    @Test
    void whenLeadershipOfAnOffsetsPartitionMovesAwayItsGroupsAreUnloadedAndReplayedWhenItReturns() throws Exception {
        String moving = groupIn(1, "moving");
        String staying = groupIn(0, "staying");
        TopicPartition tp = new TopicPartition(TOPIC, 2);
        leaderOfOne = BROKER;
        GroupCoordinatorVerticle host = host(Long.MAX_VALUE);
        JoinResult member = await(host.join(join(moving)));
        await(host.commitOffsets(moving, member.memberId(), member.generation(), Map.of(tp, OffsetAndMetadata.of(42))));
        JoinResult stayer = await(host.join(join(staying)));
        // a second member's join waits for the first to rejoin (up to its 10 s rebalance timeout)
        Future<JoinResult> waiting = host.join(join(moving));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                .until(() -> await(host.describeGroup(moving)).state() == GroupState.PREPARING_REBALANCE);
        assertThat(await(host.listGroups())).extracting(GroupListing::groupId).contains(moving, staying);

        leaderOfOne = 1; // leadership moves away
        assertThatThrownBy(() -> awaitWithin(waiting, 3))
                .satisfies(e -> assertThat(code(e)).isEqualTo(ErrorCode.NOT_COORDINATOR));
        assertThatThrownBy(() -> await(host.heartbeat(moving, member.memberId(), member.generation())))
                .satisfies(e -> assertThat(code(e)).isEqualTo(ErrorCode.NOT_COORDINATOR));
        assertThatThrownBy(() -> await(host.describeGroup(moving)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(ErrorCode.NOT_COORDINATOR));
        assertThat(await(host.listGroups())).extracting(GroupListing::groupId).containsExactly(staying);
        await(host.heartbeat(staying, stayer.memberId(), stayer.generation()));

        leaderOfOne = BROKER; // and back: replayed from the log, with no members
        Map<TopicPartition, OffsetAndMetadata> found = Map.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && found.isEmpty()) {
            try {
                found = await(host.fetchOffsets(moving, List.of(tp)));
            } catch (MillraceException e) {
                assertThat(e.errorCode()).isIn(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR);
                Thread.sleep(10);
            }
        }
        assertThat(found).containsEntry(tp, OffsetAndMetadata.of(42));
        GroupDescription described = await(host.describeGroup(moving));
        assertThat(described.members()).isEmpty();
        assertThat(described.offsets()).containsOnlyKeys(tp);
        assertThatThrownBy(() -> await(host.heartbeat(moving, member.memberId(), member.generation())))
                .satisfies(e -> assertThat(code(e)).isEqualTo(ErrorCode.UNKNOWN_MEMBER_ID));
        // no former member holds the next rebalance up for its rebalance timeout
        JoinResult rejoined = awaitWithin(host.join(join(moving)), 3);
        assertThat(rejoined.partitions()).hasSize(4);
        assertThat(rejoined.generation()).isEqualTo(1);
    }

    @Test
    void partitionsAddedToATopicRebalanceItsGroups() throws Exception {
        String group = groupIn(0, "grow");
        GroupCoordinatorVerticle host = host(Long.MAX_VALUE);
        JoinResult before = await(host.join(join(group)));
        assertThat(before.partitions()).hasSize(4);

        counts.put(TOPIC, 6);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        ErrorCode answer = null;
        while (System.nanoTime() < deadline && answer != ErrorCode.REBALANCE_IN_PROGRESS) {
            try {
                await(host.heartbeat(group, before.memberId(), before.generation()));
                Thread.sleep(20);
            } catch (Exception e) {
                answer = code(e);
            }
        }
        assertThat(answer).isEqualTo(ErrorCode.REBALANCE_IN_PROGRESS);
        JoinResult after = await(host.join(join(group).withMemberId(before.memberId())));
        assertThat(after.partitions()).hasSize(6);
        assertThat(after.generation()).isGreaterThan(before.generation());
    }

    @Test
    void aSnapshotKeepsTheOffsetsPartitionSmallAndLoadsTheSameOffsets() throws Exception {
        String group = groupIn(0, "snap");
        GroupCoordinatorVerticle first = host(4096);
        TopicPartition offsetsTp = new TopicPartition(OffsetsTopic.NAME, 0);
        for (int i = 1; i <= 300; i++) {
            await(first.resetOffsets(group, Map.of(new TopicPartition(TOPIC, i % 4), (long) i)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // once the commits stop, a last snapshot brings the partition down to about the live commits
        while (System.nanoTime() < deadline && partitions.get(offsetsTp).stats().sizeBytes() >= 4096) {
            Thread.sleep(20);
        }
        assertThat(partitions.get(offsetsTp).stats().logStartOffset()).isPositive();
        assertThat(partitions.get(offsetsTp).stats().sizeBytes()).isLessThan(4096);
        Map<TopicPartition, OffsetAndMetadata> expected = await(first.fetchOffsets(group, List.of()));
        assertThat(expected).hasSize(4).containsEntry(new TopicPartition(TOPIC, 0), OffsetAndMetadata.of(300));

        await(vertx.undeploy(hostDeployment));
        GroupCoordinatorVerticle second = host(4096);
        assertThat(await(second.fetchOffsets(group, List.of()))).isEqualTo(expected);
    }

    private static ErrorCode code(Throwable e) {
        Throwable t = e instanceof ExecutionException ? e.getCause() : e;
        return t instanceof MillraceException m ? m.errorCode() : ErrorCode.UNKNOWN;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return awaitWithin(future, 10);
    }

    private static <T> T awaitWithin(Future<T> future, int seconds) throws Exception {
        try {
            return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof MillraceException m) {
                throw m;
            }
            throw e;
        }
    }
}
