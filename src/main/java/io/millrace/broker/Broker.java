package io.millrace.broker;

import io.millrace.common.Acks;
import io.millrace.common.EpochEndOffset;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.OffsetSpec;
import io.millrace.common.TopicPartition;
import io.millrace.group.GroupListing;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.OffsetAndMetadata;
import io.millrace.record.RecordBatch;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The one broker API. Every front-end (WebSocket, TCP, REST) decodes its own frames into these calls; none holds
 * broker logic of its own. Calls may be made from any Vert.x context and complete on it; failures are
 * {@link io.millrace.common.MillraceException}s carrying the {@link io.millrace.common.ErrorCode} to send back.
 *
 * <p>Data calls go to the partition's leader over the event bus; a partition led elsewhere answers
 * {@code NOT_LEADER}.
 *
 * <p>The data calls that only a leader serves take {@code currentLeaderEpoch}: the leader epoch the caller's metadata
 * has for the partition (a TCP client of protocol version 4 sends it), or {@link LeaderEpoch#UNKNOWN} for no
 * check.
 * The partition checks it before doing anything: an older epoch fails with {@code FENCED_LEADER_EPOCH}, a newer one
 * (the partition has not learned the new state yet) with {@code NOT_LEADER}; nothing is appended or read. The forms
 * without the parameter (REST, WebSocket, internal callers) send {@link LeaderEpoch#UNKNOWN}.
 */
public interface Broker {

    int brokerId();

    Future<TopicDescription> createTopic(NewTopic topic);

    /** Names of the topics, sorted; internal topics ({@code __consumer_offsets}) are not listed but can be described. */
    Future<List<String>> listTopics();

    Future<TopicDescription> describeTopic(String name);

    /** Grows a topic to {@code totalPartitions}; partitions are never removed. */
    Future<TopicDescription> addPartitions(String name, int totalPartitions);

    /** Deletes a topic and all its data. */
    Future<Void> deleteTopic(String name);

    Future<List<BrokerDescription>> brokers();

    /**
     * Moves leadership back to each partition's preferred (first) replica where it is alive and in sync; answered by
     * the controller, wherever the request arrives. Completes with the number of partitions moved.
     */
    Future<Integer> electPreferredLeaders();

    /** Moving partitions between brokers online: reassignments, rebalance and decommission plans. */
    Reassignments reassignments();

    /**
     * Appends one batch (one or more whole RecordBatch v2 bytes, as a producer sends them) to a partition. The
     * broker rewrites the batch's offsets in place: the caller hands the buffer over.
     */
    default Future<ProduceResult> produce(TopicPartition tp, RecordBatch batch, Acks acks) {
        return produce(tp, batch, acks, LeaderEpoch.UNKNOWN);
    }

    /** As {@link #produce(TopicPartition, RecordBatch, Acks)}; refused unless the partition is in that epoch. */
    Future<ProduceResult> produce(TopicPartition tp, RecordBatch batch, Acks acks, int currentLeaderEpoch);

    /** Appends records, choosing each record's partition; results come back in the order of {@code records}. */
    Future<List<RecordMetadata>> produceRecords(String topic, List<NewRecord> records, Acks acks);

    /**
     * Reads committed batches from {@code offset}. With nothing there yet, waits up to {@code maxWaitMs} (capped
     * by {@code fetch.max.wait.ms}) for data, then completes with an empty result.
     */
    default Future<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs) {
        return fetch(tp, offset, maxBytes, maxWaitMs, LeaderEpoch.UNKNOWN);
    }

    /** As {@link #fetch(TopicPartition, long, int, long)}; refused unless the partition is in that epoch. */
    Future<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch);

    default Future<ResolvedOffset> listOffset(TopicPartition tp, OffsetSpec spec) {
        return listOffset(tp, spec, LeaderEpoch.UNKNOWN);
    }

    /** As {@link #listOffset(TopicPartition, OffsetSpec)}; refused unless the partition is in that epoch. */
    Future<ResolvedOffset> listOffset(TopicPartition tp, OffsetSpec spec, int currentLeaderEpoch);

    /**
     * Deletes the records of a partition below {@code offset} (Kafka's DeleteRecords): its log start offset moves
     * there, or to the high watermark for {@code -1}, durably; reads below it fail with {@code OFFSET_OUT_OF_RANGE}
     * and its earliest offset is the new start. An offset above the high watermark fails with
     * {@code OFFSET_OUT_OF_RANGE}; one below the current start changes nothing. Completes with the partition's log
     * start offset afterwards (Kafka's low watermark). Served by the leader.
     */
    Future<Long> deleteRecords(TopicPartition tp, long offset);

    /**
     * Where leader epoch {@code leaderEpoch} ended in a partition's log (Kafka's OffsetForLeaderEpoch, which a
     * consumer sends to check that the records it read were not truncated by a leader change): the largest epoch the
     * log knows at or below it, and the offset after that epoch's last record (the start of the next epoch, or the
     * log end for the current one); {@link EpochEndOffset#UNDEFINED} when the log knows no such epoch. Served by the
     * leader, in {@code currentLeaderEpoch} unless that is {@link LeaderEpoch#UNKNOWN}: an older one fails with
     * {@code FENCED_LEADER_EPOCH}, a newer one with {@code NOT_LEADER}.
     */
    Future<EpochEndOffset> endOffsetForEpoch(TopicPartition tp, int leaderEpoch, int currentLeaderEpoch);

    /**
     * Starts a push subscription on one partition: the broker fetches from {@code startOffset} whenever the
     * subscriber has demand and hands it the data. It runs on the caller's context.
     */
    default Subscription subscribe(TopicPartition tp, long startOffset, int maxBytesPerFetch,
                                   Subscription.Handler handler) {
        return subscribe(tp, startOffset, maxBytesPerFetch, LeaderEpoch.UNKNOWN, handler);
    }

    /**
     * {@link #subscribe(TopicPartition, long, int, Subscription.Handler)} whose every fetch carries
     * {@code currentLeaderEpoch}. With a known epoch the subscription does not outlive a leader change: it ends with
     * {@code FENCED_LEADER_EPOCH} or {@code NOT_LEADER} at once (the subscriber subscribes again with the new epoch);
     * without one it retries those errors for a while, as the leader may come back.
     */
    default Subscription subscribe(TopicPartition tp, long startOffset, int maxBytesPerFetch, int currentLeaderEpoch,
                                   Subscription.Handler handler) {
        return subscribe(tp, startOffset, maxBytesPerFetch, currentLeaderEpoch, 0, handler);
    }

    /**
     * {@link #subscribe(TopicPartition, long, int, int, Subscription.Handler)} that lingers: a record that reaches the
     * partition's end waits up to {@code lingerMs} for company, so that records appended meanwhile come in the same
     * handler call. It trades that much latency for fewer, larger deliveries; 0 hands each record on at once.
     */
    Subscription subscribe(TopicPartition tp, long startOffset, int maxBytesPerFetch, int currentLeaderEpoch,
                           long lingerMs, Subscription.Handler handler);

    /**
     * A new idempotent-producer identity: an id no other producer of the cluster has, and epoch 0. A producer
     * stamps it, with a sequence number per partition, on every batch, so the partition recognises retries.
     */
    Future<ProducerIdentity> initProducerId();

    Health health();

    // ---------------------------------------------------------------------------------------------------------------
    // Consumer groups. A group is coordinated by the leader of its partition of __consumer_offsets; another broker
    // answers NOT_COORDINATOR. Refusals of the group protocol (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION,
    // UNKNOWN_MEMBER_ID, ...) fail the future with a MillraceException carrying that code.

    /**
     * A member joins or rejoins (empty member id: a new member). Completes when the rebalance it causes completes,
     * with the member's id, generation and assignment; see {@link io.millrace.group.GroupCoordinator#join}.
     */
    Future<JoinResult> joinGroup(JoinRequest request);

    /** Keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin. */
    Future<Void> heartbeat(String groupId, String memberId, int generation);

    /** A member leaves on purpose; the others rebalance at once. */
    Future<Void> leaveGroup(String groupId, String memberId);

    /** Commits offsets durably (acks=all on the offsets topic); a stale generation is ILLEGAL_GENERATION. */
    Future<Void> commitOffsets(String groupId, String memberId, int generation,
                               Map<TopicPartition, OffsetAndMetadata> offsets);

    /** Committed offsets of {@code partitions} (all of the group's when empty); partitions without one are absent. */
    Future<Map<TopicPartition, OffsetAndMetadata>> fetchOffsets(String groupId, Collection<TopicPartition> partitions);

    /** Every group of the cluster, whichever broker coordinates it, sorted by id. */
    Future<List<GroupListing>> listGroups();

    /** The groups this broker coordinates, sorted by id (Kafka's ListGroups: its clients ask every broker). */
    Future<List<GroupListing>> listGroupsCoordinatedHere();

    /** State, members, committed offsets and lag per partition. UNKNOWN_GROUP when it does not exist. */
    Future<GroupDetails> describeGroup(String groupId);

    /** Sets committed offsets of a group without members (GROUP_NOT_EMPTY otherwise). */
    Future<Void> resetOffsets(String groupId, Map<TopicPartition, Long> offsets);

    /** Deletes a group without members, with its committed offsets. */
    Future<Void> deleteGroup(String groupId);
}
