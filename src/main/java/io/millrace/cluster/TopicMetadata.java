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
 * A topic as stored in ZooKeeper at {@code /millrace/topics/<name>}: JSON
 * {@code {"version":1, "name", "replicationFactor", "config":{...}, "partitions":[PartitionAssignment...]}}.
 * Immutable.
 */
public record TopicMetadata(String name, int replicationFactor, Map<String, String> config,
                            List<PartitionAssignment> partitions) {

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

    public JsonObject toJson() {
        JsonObject cfg = new JsonObject();
        config.forEach(cfg::put);
        return new JsonObject().put("version", 1).put("name", name).put("replicationFactor", replicationFactor)
                .put("config", cfg)
                .put("partitions", new JsonArray(partitions.stream().map(PartitionAssignment::toJson).toList()));
    }

    public static TopicMetadata fromJson(JsonObject json) {
        Map<String, String> config = new LinkedHashMap<>();
        json.getJsonObject("config", new JsonObject()).forEach(e -> config.put(e.getKey(), String.valueOf(e.getValue())));
        List<PartitionAssignment> partitions = json.getJsonArray("partitions").stream()
                .map(o -> PartitionAssignment.fromJson((JsonObject) o)).toList();
        return new TopicMetadata(json.getString("name"), json.getInteger("replicationFactor"), config, partitions);
    }
}
