package io.millrace.protocol;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * A topic's configuration and the state of each partition: the body of CREATE_TOPIC, DESCRIBE_TOPIC and
 * ADD_PARTITIONS responses.
 *
 * @param name              not null
 * @param replicationFactor in [1, 32767] ({@code int16} on the wire)
 * @param config            the topic's configuration overrides, sorted by key; keys and values not null
 * @param partitions        every partition, in partition order
 */
public record TopicDescription(String name, int replicationFactor, Map<String, String> config,
                               List<PartitionDescription> partitions) {

    public TopicDescription {
        Objects.requireNonNull(name, "name");
        Require.int16(replicationFactor, 1, "replicationFactor");
        config = Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(config, "config")));
        partitions = Require.list(partitions, "partitions");
    }

    /**
     * One partition.
     *
     * @param partition      >= 0
     * @param leader         the leader's broker id, or empty while the partition is offline (-1 on the wire)
     * @param leaderEpoch    the current leader epoch
     * @param replicas       broker ids of all replicas, preferred leader first
     * @param isr            broker ids of the in-sync replicas
     * @param logStartOffset the first offset still in the log (-1 when unknown: the leader did not answer)
     * @param logEndOffset   the offset the next record will get (-1 when unknown)
     * @param highWatermark  offsets below it are committed (-1 when unknown)
     * @param sizeBytes      bytes of the leader's log on disk (-1 when unknown)
     */
    public record PartitionDescription(int partition, OptionalInt leader, int leaderEpoch, List<Integer> replicas,
                                       List<Integer> isr, long logStartOffset, long logEndOffset, long highWatermark,
                                       long sizeBytes) {

        public PartitionDescription {
            Require.nonNegative(partition, "partition");
            Objects.requireNonNull(leader, "leader");
            leader.ifPresent(id -> Require.nonNegative(id, "leader"));
            replicas = Require.list(replicas, "replicas");
            isr = Require.list(isr, "isr");
        }
    }

    void write(WireWriter w) {
        w.string(name);
        w.int16(replicationFactor);
        w.stringMap(config);
        w.count(partitions.size());
        for (PartitionDescription p : partitions) {
            w.int32(p.partition());
            w.int32(p.leader().orElse(-1));
            w.int32(p.leaderEpoch());
            w.int32Array(p.replicas());
            w.int32Array(p.isr());
            w.int64(p.logStartOffset());
            w.int64(p.logEndOffset());
            w.int64(p.highWatermark());
            w.int64(p.sizeBytes());
        }
    }

    static TopicDescription read(WireReader r) {
        String name = r.string("name");
        int replicationFactor = r.int16("replicationFactor");
        Map<String, String> config = r.stringMap("config");
        int n = r.count("partitions", 52);
        List<PartitionDescription> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            partitions.add(new PartitionDescription(r.int32("partition"),
                    MetadataResponse.optionalId(r.int32("leader")), r.int32("leaderEpoch"),
                    r.int32Array("replicas"), r.int32Array("isr"), r.int64("logStartOffset"),
                    r.int64("logEndOffset"), r.int64("highWatermark"), r.int64("sizeBytes")));
        }
        return new TopicDescription(name, replicationFactor, config, partitions);
    }
}
