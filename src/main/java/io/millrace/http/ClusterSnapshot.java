package io.millrace.http;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerDescription;
import io.millrace.broker.GroupDetails;
import io.millrace.broker.Health;
import io.millrace.broker.PartitionDescription;
import io.millrace.broker.TopicDescription;
import io.millrace.broker.json.JsonMapping;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of the cluster as the dashboard shows it, read from the broker API: health, brokers with their
 * partition counts and the newest figures each published ({@link BrokerSummaries}), the cluster's partition counts
 * (under-replicated, offline), a summary of every topic (counts, never its partitions: the frame must stay small at
 * 20,000 partitions, and a page asks for one topic's partitions when it shows them), and consumer groups. A part that cannot be read
 * (ZooKeeper down, say) is left empty and named in {@code problems}, so one missing part never blanks the whole page.
 * Stateless apart from the summaries it reads; the futures complete on the caller's context.
 */
final class ClusterSnapshot {

    private final Broker broker;
    private final BrokerSummaries summaries;

    ClusterSnapshot(Broker broker, BrokerSummaries summaries) {
        this.broker = broker;
        this.summaries = summaries;
    }

    /**
     * {@code {"brokerId", "health", "controller", "brokers", "partitions", "topics", "groups", "problems"}}; never
     * fails.
     */
    Future<JsonObject> take() {
        List<String> problems = new ArrayList<>();
        Future<List<BrokerDescription>> brokers = broker.brokers().recover(e -> {
            problems.add("Cannot list brokers: " + JsonMapping.asMillrace(e).getMessage());
            return Future.succeededFuture(List.of());
        });
        Future<List<TopicDescription>> topics = broker.listTopics()
                .compose(names -> Future.all(names.stream()
                        // A topic deleted between the list and its description is simply gone.
                        .map(name -> broker.describeTopic(name).otherwise((TopicDescription) null))
                        .toList()))
                .map(all -> all.<TopicDescription>list().stream().filter(Objects::nonNull).toList())
                .recover(e -> {
                    problems.add("Cannot list topics: " + JsonMapping.asMillrace(e).getMessage());
                    return Future.succeededFuture(List.of());
                });
        Future<List<GroupDetails>> groups = broker.listGroups()
                .compose(all -> Future.all(all.stream()
                        // A group deleted between the list and its description is simply gone.
                        .map(g -> broker.describeGroup(g.groupId()).otherwise((GroupDetails) null))
                        .toList()))
                .map(all -> all.<GroupDetails>list().stream().filter(Objects::nonNull).toList())
                .recover(e -> {
                    problems.add("Cannot list consumer groups: " + JsonMapping.asMillrace(e).getMessage());
                    return Future.succeededFuture(List.of());
                });
        return Future.join(brokers, topics, groups).transform(done -> Future.succeededFuture(
                json(brokers.result(), topics.result(), groups.result(), problems)));
    }

    /**
     * The body of {@code GET /api/cluster}: {@link #take()} without {@code topics} and {@code groups}, so its size
     * grows with the brokers only.
     */
    Future<JsonObject> summary() {
        return take().map(all -> {
            all.remove("topics");
            all.remove("groups");
            return all;
        });
    }

    private JsonObject json(List<BrokerDescription> brokers, List<TopicDescription> topics, List<GroupDetails> groups,
                            List<String> problems) {
        JsonArray brokerList = new JsonArray();
        int controller = -1;
        for (BrokerDescription b : brokers) {
            int leaders = 0;
            int replicas = 0;
            for (TopicDescription t : topics) {
                for (PartitionDescription p : t.partitions()) {
                    leaders += p.leader() == b.id() ? 1 : 0;
                    replicas += p.replicas().contains(b.id()) ? 1 : 0;
                }
            }
            if (b.controller()) {
                controller = b.id();
            }
            brokerList.add(summaries.withStats(JsonMapping.broker(b).put("leaders", leaders).put("replicas", replicas),
                    b));
        }
        int partitions = 0;
        int underReplicated = 0;
        int offline = 0;
        for (TopicDescription t : topics) {
            for (PartitionDescription p : t.partitions()) {
                partitions++;
                underReplicated += p.underReplicated() ? 1 : 0;
                offline += p.leader() < 0 ? 1 : 0;
            }
        }
        JsonObject partitionCounts = new JsonObject().put("total", partitions).put("underReplicated", underReplicated)
                .put("offline", offline);
        return new JsonObject().put("brokerId", broker.brokerId()).put("health", health(broker))
                .put("controller", controller).put("brokers", brokerList).put("partitions", partitionCounts)
                .put("topics", new JsonArray(topics.stream().map(ClusterSnapshot::topicSummary).toList()))
                .put("groups", new JsonArray(groups.stream().map(JsonMapping::group).toList()))
                .put("problems", new JsonArray(problems));
    }

    /**
     * {@code {"name", "replicationFactor", "partitionCount", "underReplicated", "offline", "records", "sizeBytes"}}:
     * {@code records} (committed and retained: high watermark minus log start, summed) and {@code sizeBytes} are
     * {@code null} unless this broker holds a replica of every partition.
     */
    static JsonObject topicSummary(TopicDescription topic) {
        int underReplicated = 0;
        int offline = 0;
        long records = 0;
        long size = 0;
        boolean known = true;
        for (PartitionDescription p : topic.partitions()) {
            underReplicated += p.underReplicated() ? 1 : 0;
            offline += p.leader() < 0 ? 1 : 0;
            known &= p.highWatermark() >= 0 && p.sizeBytes() >= 0;
            records += Math.max(0, p.highWatermark() - p.logStartOffset());
            size += Math.max(0, p.sizeBytes());
        }
        return new JsonObject().put("name", topic.name()).put("replicationFactor", topic.replicationFactor())
                .put("partitionCount", topic.partitions().size()).put("underReplicated", underReplicated)
                .put("offline", offline).put("records", known ? records : null).put("sizeBytes", known ? size : null);
    }

    /**
     * The body of {@code GET /health}: {@code {"status", "brokerId", "zookeeper", "localPartitions", "partitionsDown",
     * "partitionsOpening", "storage": {"status", "directory", "reason"?, "partitions"}}}.
     */
    static JsonObject health(Broker broker) {
        Health health = broker.health();
        Health.Storage storage = health.storage();
        JsonObject storageJson = new JsonObject().put("status", storage.status())
                .put("directory", storage.directory());
        storage.reason().ifPresent(reason -> storageJson.put("reason", reason));
        storageJson.put("partitions", new JsonArray(storage.partitions()));
        return new JsonObject().put("status", health.status())
                .put("brokerId", broker.brokerId()).put("zookeeper", health.zookeeperConnected())
                .put("localPartitions", health.localPartitions())
                .put("partitionsDown", new JsonArray(health.partitionsDown()))
                .put("partitionsOpening", new JsonArray(health.partitionsOpening()))
                .put("storage", storageJson);
    }
}
