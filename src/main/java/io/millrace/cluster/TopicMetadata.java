package io.millrace.cluster;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A topic: its own ZooKeeper node {@code /millrace/topics/<name>} holds JSON
 * {@code {"version":2, "name", "replicationFactor", "config":{...}, "partitionCount"}}, and each partition's state
 * lives in a child node of its own ({@link PartitionAssignment}), so that no node grows with the partition count and
 * partition state changes are conditional updates of one small node. Version 1 nodes (every partition inline) are
 * read too and rewritten by {@link MetadataStore#init()}. Immutable.
 */
public record TopicMetadata(String name, int replicationFactor, Map<String, String> config,
                            List<PartitionAssignment> partitions) {

    /** Topic config keys the cluster layer interprets (the storage engine's keys are {@code LogConfig.KEYS}). */
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final java.util.Set<String> CLUSTER_KEYS = java.util.Set.of(MIN_INSYNC_REPLICAS);

    private static final Pattern LEGAL_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    public TopicMetadata {
        config = Map.copyOf(config);
        partitions = List.copyOf(partitions);
    }

    /** Rejects names that could not be a directory name or a ZooKeeper node (as Kafka's rules). */
    public static void validateName(String name) {
        if (name == null || !LEGAL_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new MillraceException(ErrorCode.INVALID_TOPIC, "Invalid topic name '" + name
                    + "': use 1-249 characters of a-z A-Z 0-9 . _ -");
        }
    }

    public int partitionCount() {
        return partitions.size();
    }

    public PartitionAssignment partition(int partition) {
        if (partition < 0 || partition >= partitions.size()) {
            throw new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + name + " has no partition "
                    + partition + " (it has " + partitions.size() + ")");
        }
        return partitions.get(partition);
    }

    public TopicPartition topicPartition(int partition) {
        return new TopicPartition(name, partition);
    }

    /** The topic node's JSON: everything but the partitions' state. */
    JsonObject toJson() {
        JsonObject cfg = new JsonObject();
        config.forEach(cfg::put);
        return new JsonObject().put("version", 2).put("name", name).put("replicationFactor", replicationFactor)
                .put("config", cfg).put("partitionCount", partitions.size());
    }

    /**
     * A topic from its node's JSON and the partition states read so far ({@code states.get(p)} may be missing while
     * a topic is being created: such a partition has no leader yet).
     */
    static TopicMetadata fromJson(JsonObject json, Map<Integer, PartitionAssignment> states) {
        Map<String, String> config = new LinkedHashMap<>();
        json.getJsonObject("config", new JsonObject()).forEach(e -> config.put(e.getKey(), String.valueOf(e.getValue())));
        int count = partitionCount(json);
        List<PartitionAssignment> partitions = new java.util.ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            partitions.add(states.getOrDefault(p, PartitionAssignment.unknown(p)));
        }
        return new TopicMetadata(json.getString("name"), json.getInteger("replicationFactor"), config, partitions);
    }

    static int partitionCount(JsonObject json) {
        return json.getInteger("version", 1) >= 2 ? json.getInteger("partitionCount")
                : json.getJsonArray("partitions").size();
    }

    /** The inline partition states of a version 1 node, which {@link MetadataStore#init()} moves to child nodes. */
    static List<PartitionAssignment> legacyPartitions(JsonObject json) {
        if (json.getInteger("version", 1) >= 2) {
            return List.of();
        }
        return json.getJsonArray("partitions").stream()
                .map(o -> PartitionAssignment.fromJson((JsonObject) o, -1)).toList();
    }

    /** This topic as ZooKeeper holds it right after partitions {@code from} and up were created (version 0). */
    TopicMetadata created(int from) {
        List<PartitionAssignment> out = new java.util.ArrayList<>(partitions);
        for (int p = from; p < out.size(); p++) {
            out.set(p, out.get(p).withVersion(0));
        }
        return new TopicMetadata(name, replicationFactor, config, out);
    }

    /** The effective {@code min.insync.replicas} of this topic. */
    public int minInSyncReplicas() {
        return Integer.parseInt(config.getOrDefault(MIN_INSYNC_REPLICAS, "1"));
    }
}
