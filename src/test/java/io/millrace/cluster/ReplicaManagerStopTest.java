package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.TopicPartition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopping broker opens no partition: between {@link ReplicaManager#beginStop()} and the process's exit, a topic
 * that ZooKeeper assigns to it (created by another broker, say) must not get a verticle and a log that nothing will
 * close. Real ZooKeeper, real watch events.
 */
class ReplicaManagerStopTest {

    private static final int BROKER = 0;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private ZooKeeperMetadata zooKeeper;
    private ReplicaManager replicas;

    @BeforeEach
    void start() throws Exception {
        zooKeeper = ZooKeeperMetadata.start(dir);
        replicas = zooKeeper.deployReplicaManager(BROKER, dir);
    }

    @AfterEach
    void stop() throws Exception {
        if (zooKeeper != null) {
            zooKeeper.close();
        }
    }

    @Test
    void aTopicAssignedHereAfterBeginStopIsNotOpened() throws Exception {
        // The same path before the stop opens the partition: what the stopping broker must not do.
        TopicPartition early = new TopicPartition("early", 0);
        zooKeeper.store.createTopic(topicOnThisBroker(early.topic())).await(30, TimeUnit.SECONDS);
        await().atMost(WAIT).until(() -> replicas.localPartition(early).isPresent());
        assertThat(dir.resolve("logs").resolve(early.toString())).isDirectory();

        replicas.beginStop();
        long rereadBefore = replicas.topicsReread();
        TopicPartition late = new TopicPartition("late", 0);
        TopicMetadata lateTopic = topicOnThisBroker(late.topic());
        zooKeeper.store.createTopic(lateTopic).await(30, TimeUnit.SECONDS);
        // The watch event reached the replica manager and it read the new topic...
        await().atMost(WAIT).until(() -> zooKeeper.store.cachedTopic(late.topic())
                .filter(t -> t.partition(0).version() >= 0).isPresent() && replicas.topicsReread() > rereadBefore);
        // ...and every change queued before this one has been applied, or ignored.
        replicas.sync(lateTopic).await(30, TimeUnit.SECONDS);

        assertThat(replicas.localPartition(late)).isEmpty();
        assertThat(replicas.localPartitionsOpening()).isEmpty();
        assertThat(dir.resolve("logs").resolve(late.toString())).doesNotExist();
        assertThat(replicas.localPartition(early)).as("what was open stays open until the broker undeploys it")
                .isPresent();
        try (Stream<Path> logs = Files.list(dir.resolve("logs"))) {
            assertThat(logs.map(p -> p.getFileName().toString())).containsExactly(early.toString());
        }
    }

    private static TopicMetadata topicOnThisBroker(String name) {
        return new TopicMetadata(name, 1, Map.of(), TopicAdmin.assign(List.of(BROKER), 0, 1, 1, 0));
    }
}
