package io.millrace.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The cluster as one broker sees it: live brokers, the controller, and leaders and replicas of the topics asked for.
 *
 * @param brokers      the live brokers
 * @param controllerId the controller's broker id, or empty while none is elected (-1 on the wire)
 * @param topics       one entry per topic asked for (every topic when the request named none); a topic that could
 *                     not be described carries an error and no partitions
 */
public record MetadataResponse(List<Broker> brokers, OptionalInt controllerId, List<TopicMetadata> topics)
        implements Response {

    public MetadataResponse {
        brokers = Require.list(brokers, "brokers");
        Objects.requireNonNull(controllerId, "controllerId");
        controllerId.ifPresent(id -> Require.nonNegative(id, "controllerId"));
        topics = Require.list(topics, "topics");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.METADATA;
    }

    /**
     * A broker and where to reach it.
     *
     * @param id       >= 0
     * @param host     not null
     * @param tcpPort  the native protocol port, or -1 if the broker does not listen for it
     * @param httpPort the HTTP/WebSocket port, or -1 if the broker does not listen for it
     */
    public record Broker(int id, String host, int tcpPort, int httpPort) {

        public Broker {
            Require.nonNegative(id, "id");
            Objects.requireNonNull(host, "host");
        }
    }

    /**
     * One topic.
     *
     * @param name       not null
     * @param error      why the topic could not be described (for example {@code UNKNOWN_TOPIC_OR_PARTITION}), or
     *                   empty
     * @param partitions not null; empty when there is an error
     */
    public record TopicMetadata(String name, Optional<ApiError> error, List<PartitionMetadata> partitions) {

        public TopicMetadata {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(error, "error");
            partitions = Require.list(partitions, "partitions");
        }
    }

    /**
     * One partition's leadership.
     *
     * @param partition   >= 0
     * @param leader      the leader's broker id, or empty while the partition is offline (-1 on the wire)
     * @param leaderEpoch the current leader epoch
     * @param replicas    broker ids of all replicas, preferred leader first
     * @param isr         broker ids of the in-sync replicas
     */
    public record PartitionMetadata(int partition, OptionalInt leader, int leaderEpoch, List<Integer> replicas,
                                    List<Integer> isr) {

        public PartitionMetadata {
            Require.nonNegative(partition, "partition");
            Objects.requireNonNull(leader, "leader");
            leader.ifPresent(id -> Require.nonNegative(id, "leader"));
            replicas = Require.list(replicas, "replicas");
            isr = Require.list(isr, "isr");
        }
    }

    void write(WireWriter w) {
        w.count(brokers.size());
        for (Broker b : brokers) {
            w.int32(b.id());
            w.string(b.host());
            w.int32(b.tcpPort());
            w.int32(b.httpPort());
        }
        w.int32(controllerId.orElse(-1));
        w.count(topics.size());
        for (TopicMetadata t : topics) {
            w.string(t.name());
            w.error(t.error());
            w.count(t.partitions().size());
            for (PartitionMetadata p : t.partitions()) {
                w.int32(p.partition());
                w.int32(p.leader().orElse(-1));
                w.int32(p.leaderEpoch());
                w.int32Array(p.replicas());
                w.int32Array(p.isr());
            }
        }
    }

    static MetadataResponse read(WireReader r) {
        int nBrokers = r.count("brokers", 14);
        List<Broker> brokers = new ArrayList<>(nBrokers);
        for (int i = 0; i < nBrokers; i++) {
            brokers.add(new Broker(r.int32("id"), r.string("host"), r.int32("tcpPort"), r.int32("httpPort")));
        }
        OptionalInt controllerId = optionalId(r.int32("controllerId"));
        int nTopics = r.count("topics", 10);
        List<TopicMetadata> topics = new ArrayList<>(nTopics);
        for (int i = 0; i < nTopics; i++) {
            String name = r.string("name");
            Optional<ApiError> error = r.error("error");
            int nPartitions = r.count("partitions", 20);
            List<PartitionMetadata> partitions = new ArrayList<>(nPartitions);
            for (int j = 0; j < nPartitions; j++) {
                partitions.add(new PartitionMetadata(r.int32("partition"), optionalId(r.int32("leader")),
                        r.int32("leaderEpoch"), r.int32Array("replicas"), r.int32Array("isr")));
            }
            topics.add(new TopicMetadata(name, error, partitions));
        }
        return new MetadataResponse(brokers, controllerId, topics);
    }

    /** A broker id where -1 means none; other negative ids are rejected by the record constructors. */
    static OptionalInt optionalId(int id) {
        return id == -1 ? OptionalInt.empty() : OptionalInt.of(id);
    }
}
