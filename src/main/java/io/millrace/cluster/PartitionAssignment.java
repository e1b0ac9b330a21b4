package io.millrace.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Who holds a partition: its replicas (the first is the preferred leader), the current leader and its epoch, and
 * the in-sync replicas. The leader epoch grows by one at every leader change, so stale leaders can be fenced.
 */
public record PartitionAssignment(int partition, List<Integer> replicas, int leader, int leaderEpoch,
                                  List<Integer> isr) {

    public PartitionAssignment {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    JsonObject toJson() {
        return new JsonObject().put("partition", partition).put("replicas", new JsonArray(replicas))
                .put("leader", leader).put("leaderEpoch", leaderEpoch).put("isr", new JsonArray(isr));
    }

    static PartitionAssignment fromJson(JsonObject json) {
        return new PartitionAssignment(json.getInteger("partition"), ints(json.getJsonArray("replicas")),
                json.getInteger("leader"), json.getInteger("leaderEpoch"), ints(json.getJsonArray("isr")));
    }

    private static List<Integer> ints(JsonArray array) {
        return array.stream().map(o -> ((Number) o).intValue()).toList();
    }
}
