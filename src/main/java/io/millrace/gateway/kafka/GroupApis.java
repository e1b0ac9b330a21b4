package io.millrace.gateway.kafka;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerDescription;
import io.millrace.broker.json.JsonMapping;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.group.AssignmentStrategy;
import io.millrace.group.GroupState;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.MemberDescription;
import io.millrace.group.OffsetAndMetadata;
import io.millrace.group.OffsetsTopic;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;

/**
 * Kafka's classic consumer-group protocol on Millrace's group coordinator, the same one the SDK and WebSocket members
 * use, so a Kafka consumer and a browser can share a group and its committed offsets.
 *
 * <p>Millrace assigns partitions on the coordinator, where Kafka lets the group's leader member do it. So every Kafka
 * member is a follower: JoinGroup answers (when the coordinator's rebalance completes) with an empty leader and no
 * member list, the client then sends SyncGroup with no assignments, and SyncGroup answers with the partitions the
 * coordinator gave that member, encoded as Kafka's consumer protocol assignment. The strategy is the first of the
 * member's protocols that Millrace implements (range, roundrobin, cooperative-sticky).
 *
 * <p>One instance per connection: it keeps each member's last join result for its SyncGroup (a Kafka consumer sends
 * both on its coordinator connection). Not thread-safe; the connection's event loop calls it.
 */
final class GroupApis {

    private static final String CONSUMER_PROTOCOL = "consumer";
    private static final byte GROUP_KEY = FindCoordinatorRequest.CoordinatorType.GROUP.id();

    private final Broker broker;
    private final String host;
    private final Map<String, JoinResult> joined = new HashMap<>();

    GroupApis(Broker broker, String host) {
        this.broker = broker;
        this.host = host;
    }

    // ---------------------------------------------------------------- FindCoordinator

    /**
     * The leader of the group's partition of {@code __consumer_offsets}, by its Kafka listener. Asking for it creates
     * the offsets topic when it is missing; until it has a leader the answer is COORDINATOR_NOT_AVAILABLE, which
     * clients retry. Transaction and share-group coordinators are answered INVALID_REQUEST.
     */
    Future<FindCoordinatorResponseData> findCoordinator(FindCoordinatorRequestData request, short version) {
        boolean batched = version >= 4;
        List<String> keys = batched ? request.coordinatorKeys() : List.of(request.key());
        List<Future<FindCoordinatorResponseData.Coordinator>> each = keys.stream().map(key ->
                request.keyType() == GROUP_KEY ? coordinator(key)
                        : Future.succeededFuture(new FindCoordinatorResponseData.Coordinator().setKey(key)
                                .setNodeId(-1).setHost("").setPort(-1).setErrorCode(Errors.INVALID_REQUEST.code())
                                .setErrorMessage("Millrace coordinates consumer groups only (key type 0)"))).toList();
        return Future.all(each).map(v -> {
            FindCoordinatorResponseData response = new FindCoordinatorResponseData();
            each.forEach(f -> response.coordinators().add(f.result()));
            if (!batched) {
                FindCoordinatorResponseData.Coordinator only = each.get(0).result();
                response.setErrorCode(only.errorCode()).setErrorMessage(only.errorMessage())
                        .setNodeId(only.nodeId()).setHost(only.host()).setPort(only.port());
            }
            return response;
        });
    }

    private Future<FindCoordinatorResponseData.Coordinator> coordinator(String groupId) {
        FindCoordinatorResponseData.Coordinator answer = new FindCoordinatorResponseData.Coordinator().setKey(groupId)
                .setNodeId(-1).setHost("").setPort(-1);
        return DataRequests.call(() -> broker.describeTopic(OffsetsTopic.NAME))
                .compose(topic -> {
                    int partition = OffsetsTopic.partitionFor(groupId, topic.partitions().size());
                    int leader = topic.partitions().get(partition).leader();
                    return broker.brokers().map(all -> all.stream()
                            .filter(b -> b.id() == leader && b.alive() && b.kafkaPort() > 0).findFirst());
                })
                .map(found -> {
                    if (found.isEmpty()) {
                        return answer.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code());
                    }
                    BrokerDescription b = found.get();
                    return answer.setNodeId(b.id()).setHost(b.kafkaHost()).setPort(b.kafkaPort());
                })
                .otherwise(e -> answer.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                        .setErrorMessage(KafkaErrors.message(e)));
    }

    // ---------------------------------------------------------------- membership

    /** Joins the coordinator's group; completes when its rebalance does (see the class comment). */
    Future<JoinGroupResponseData> joinGroup(JoinGroupRequestData request, short version, String clientId) {
        JoinGroupResponseData response = new JoinGroupResponseData().setMemberId(request.memberId())
                .setProtocolType(CONSUMER_PROTOCOL).setLeader("").setGenerationId(-1);
        Optional<JoinGroupRequestData.JoinGroupRequestProtocol> chosen = request.protocols().stream()
                .filter(p -> strategy(p.name()).isPresent()).findFirst();
        if (!CONSUMER_PROTOCOL.equals(request.protocolType()) || chosen.isEmpty()) {
            return Future.succeededFuture(response.setErrorCode(Errors.INCONSISTENT_GROUP_PROTOCOL.code()));
        }
        Set<String> topics;
        try {
            topics = new TreeSet<>(ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(chosen.get().metadata()))
                    .topics());
        } catch (RuntimeException e) {
            return Future.succeededFuture(response.setErrorCode(Errors.INCONSISTENT_GROUP_PROTOCOL.code()));
        }
        int rebalanceTimeoutMs = version == 0 ? request.sessionTimeoutMs() : request.rebalanceTimeoutMs();
        JoinRequest join = new JoinRequest(request.groupId(), request.memberId(), clientId, host, topics,
                request.sessionTimeoutMs(), rebalanceTimeoutMs, strategy(chosen.get().name()).get());
        return DataRequests.call(() -> broker.joinGroup(join)).map(result -> {
            joined.put(result.memberId(), result);
            return response.setMemberId(result.memberId()).setGenerationId(result.generation())
                    .setProtocolName(chosen.get().name());
        }).otherwise(e -> response.setErrorCode(KafkaErrors.of(e).code()));
    }

    /** The assignment the coordinator made for this member in the generation its join returned. */
    Future<SyncGroupResponseData> syncGroup(SyncGroupRequestData request) {
        SyncGroupResponseData response = new SyncGroupResponseData().setProtocolType(CONSUMER_PROTOCOL)
                .setProtocolName(request.protocolName()).setAssignment(new byte[0]);
        JoinResult result = joined.get(request.memberId());
        if (result == null) {
            return Future.succeededFuture(response.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
        }
        if (result.generation() != request.generationId()) {
            return Future.succeededFuture(response.setErrorCode(Errors.ILLEGAL_GENERATION.code()));
        }
        return Future.succeededFuture(response.setAssignment(assignment(result.assignment())));
    }

    private static byte[] assignment(Map<String, List<Integer>> partitions) {
        List<org.apache.kafka.common.TopicPartition> all = new ArrayList<>();
        partitions.forEach((topic, list) -> list.forEach(p -> all.add(
                new org.apache.kafka.common.TopicPartition(topic, p))));
        ByteBuffer bytes = ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(all));
        byte[] out = new byte[bytes.remaining()];
        bytes.get(out);
        return out;
    }

    Future<HeartbeatResponseData> heartbeat(HeartbeatRequestData request) {
        return DataRequests.call(() -> broker.heartbeat(request.groupId(), request.memberId(),
                        request.generationId()))
                .map(v -> new HeartbeatResponseData())
                .otherwise(e -> new HeartbeatResponseData().setErrorCode(KafkaErrors.of(e).code()));
    }

    /** Versions 0-2 name one member, 3 and later a list. */
    Future<LeaveGroupResponseData> leaveGroup(LeaveGroupRequestData request, short version) {
        List<String> members = version < 3 ? List.of(request.memberId())
                : request.members().stream().map(LeaveGroupRequestData.MemberIdentity::memberId).toList();
        List<Future<LeaveGroupResponseData.MemberResponse>> each = members.stream().map(memberId -> {
            joined.remove(memberId);
            LeaveGroupResponseData.MemberResponse answer = new LeaveGroupResponseData.MemberResponse()
                    .setMemberId(memberId);
            return DataRequests.call(() -> broker.leaveGroup(request.groupId(), memberId)).map(v -> answer)
                    .otherwise(e -> answer.setErrorCode(KafkaErrors.of(e).code()));
        }).toList();
        return Future.all(each).map(v -> {
            LeaveGroupResponseData response = new LeaveGroupResponseData();
            each.forEach(f -> response.members().add(f.result()));
            if (version < 3) {
                response.setErrorCode(each.get(0).result().errorCode()).setMembers(new ArrayList<>());
            }
            return response;
        });
    }

    // ---------------------------------------------------------------- offsets

    /** Commits all partitions at once; the group's answer (ILLEGAL_GENERATION, ...) is each partition's error. */
    Future<OffsetCommitResponseData> offsetCommit(OffsetCommitRequestData request) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic topic : request.topics()) {
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : topic.partitions()) {
                offsets.put(new TopicPartition(topic.name(), p.partitionIndex()), new OffsetAndMetadata(
                        p.committedOffset(), p.committedMetadata() == null ? "" : p.committedMetadata()));
            }
        }
        return DataRequests.call(() -> broker.commitOffsets(request.groupId(), request.memberId(),
                        request.generationIdOrMemberEpoch(), offsets))
                .transform(done -> {
                    short code = done.succeeded() ? Errors.NONE.code() : KafkaErrors.of(done.cause()).code();
                    OffsetCommitResponseData response = new OffsetCommitResponseData();
                    for (OffsetCommitRequestData.OffsetCommitRequestTopic topic : request.topics()) {
                        OffsetCommitResponseData.OffsetCommitResponseTopic answer =
                                new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(topic.name());
                        topic.partitions().forEach(p -> answer.partitions().add(
                                new OffsetCommitResponseData.OffsetCommitResponsePartition()
                                        .setPartitionIndex(p.partitionIndex()).setErrorCode(code)));
                        response.topics().add(answer);
                    }
                    return Future.succeededFuture(response);
                });
    }

    /**
     * Committed offsets; a partition without one is answered with offset -1. Versions 0-7 ask for one group, 8 and
     * later for a list of groups.
     */
    Future<OffsetFetchResponseData> offsetFetch(OffsetFetchRequestData request, short version) {
        if (version < 8) {
            List<OffsetFetchRequestData.OffsetFetchRequestTopics> topics = request.topics() == null ? null
                    : request.topics().stream().map(t -> new OffsetFetchRequestData.OffsetFetchRequestTopics()
                            .setName(t.name()).setPartitionIndexes(t.partitionIndexes())).toList();
            return groupOffsets(request.groupId(), topics).map(group -> {
                OffsetFetchResponseData response = new OffsetFetchResponseData().setErrorCode(group.errorCode());
                group.topics().forEach(t -> {
                    OffsetFetchResponseData.OffsetFetchResponseTopic topic =
                            new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(t.name());
                    t.partitions().forEach(p -> topic.partitions().add(
                            new OffsetFetchResponseData.OffsetFetchResponsePartition()
                                    .setPartitionIndex(p.partitionIndex()).setCommittedOffset(p.committedOffset())
                                    .setMetadata(p.metadata()).setErrorCode(p.errorCode())));
                    response.topics().add(topic);
                });
                return response;
            });
        }
        List<Future<OffsetFetchResponseData.OffsetFetchResponseGroup>> each = request.groups().stream()
                .map(g -> groupOffsets(g.groupId(), g.topics())).toList();
        return Future.all(each).map(v -> {
            OffsetFetchResponseData response = new OffsetFetchResponseData();
            each.forEach(f -> response.groups().add(f.result()));
            return response;
        });
    }

    private Future<OffsetFetchResponseData.OffsetFetchResponseGroup> groupOffsets(
            String groupId, List<OffsetFetchRequestData.OffsetFetchRequestTopics> topics) {
        List<TopicPartition> asked = new ArrayList<>();
        if (topics != null) {
            topics.forEach(t -> t.partitionIndexes().forEach(p -> asked.add(new TopicPartition(t.name(), p))));
        }
        OffsetFetchResponseData.OffsetFetchResponseGroup group = new OffsetFetchResponseData.OffsetFetchResponseGroup()
                .setGroupId(groupId);
        return DataRequests.call(() -> broker.fetchOffsets(groupId, asked)).map(committed -> {
            Map<String, OffsetFetchResponseData.OffsetFetchResponseTopics> byTopic = new LinkedHashMap<>();
            List<TopicPartition> answered = topics == null ? new ArrayList<>(committed.keySet()) : asked;
            for (TopicPartition tp : answered) {
                OffsetAndMetadata offset = committed.get(tp);
                byTopic.computeIfAbsent(tp.topic(), name -> new OffsetFetchResponseData.OffsetFetchResponseTopics()
                        .setName(name)).partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                        .setPartitionIndex(tp.partition()).setCommittedOffset(offset == null ? -1 : offset.offset())
                        .setMetadata(offset == null ? "" : offset.metadata()));
            }
            byTopic.values().forEach(group.topics()::add);
            return group;
        }).otherwise(e -> {
            // A group this coordinator has never seen has no offsets, which Kafka answers without an error.
            if (e instanceof MillraceException m && m.errorCode() == ErrorCode.UNKNOWN_GROUP) {
                return group;
            }
            return group.setErrorCode(KafkaErrors.of(e).code());
        });
    }

    // ---------------------------------------------------------------- admin

    /** The groups this broker coordinates, in Kafka's state names; the states filter is applied, types are all classic. */
    Future<ListGroupsResponseData> listGroups(ListGroupsRequestData request) {
        return DataRequests.call(broker::listGroupsCoordinatedHere).map(groups -> {
            ListGroupsResponseData response = new ListGroupsResponseData();
            groups.stream().filter(g -> request.statesFilter().isEmpty()
                            || request.statesFilter().stream().anyMatch(s -> s.equalsIgnoreCase(state(g.state()))))
                    .forEach(g -> response.groups().add(new ListGroupsResponseData.ListedGroup()
                            .setGroupId(g.groupId()).setProtocolType(CONSUMER_PROTOCOL).setGroupState(state(g.state()))
                            .setGroupType("classic")));
            return response;
        }).otherwise(e -> new ListGroupsResponseData().setErrorCode(KafkaErrors.of(e).code()));
    }

    /** State, strategy and members with their subscriptions and assignments in Kafka's consumer protocol encoding. */
    Future<DescribeGroupsResponseData> describeGroups(DescribeGroupsRequestData request) {
        List<Future<DescribeGroupsResponseData.DescribedGroup>> each = request.groups().stream().map(groupId ->
                DataRequests.call(() -> broker.describeGroup(groupId)).map(details -> {
                    var description = details.description();
                    DescribeGroupsResponseData.DescribedGroup group = new DescribeGroupsResponseData.DescribedGroup()
                            .setGroupId(groupId).setGroupState(state(description.state()))
                            .setProtocolType(CONSUMER_PROTOCOL)
                            .setProtocolData(description.strategy().map(JsonMapping::strategy).orElse(""));
                    for (MemberDescription m : description.members()) {
                        group.members().add(new DescribeGroupsResponseData.DescribedGroupMember()
                                .setMemberId(m.memberId()).setClientId(m.clientId()).setClientHost(m.host())
                                .setMemberMetadata(subscription(m.topics()))
                                .setMemberAssignment(assignment(m.assignment())));
                    }
                    return group;
                }).otherwise(e -> {
                    DescribeGroupsResponseData.DescribedGroup group = new DescribeGroupsResponseData.DescribedGroup()
                            .setGroupId(groupId).setProtocolType("").setProtocolData("");
                    // Kafka describes a group it does not know as Dead, without an error.
                    if (e instanceof MillraceException m && m.errorCode() == ErrorCode.UNKNOWN_GROUP) {
                        return group.setGroupState("Dead");
                    }
                    return group.setGroupState("").setErrorCode(KafkaErrors.of(e).code())
                            .setErrorMessage(KafkaErrors.message(e));
                })).toList();
        return Future.all(each).map(v -> {
            DescribeGroupsResponseData response = new DescribeGroupsResponseData();
            each.forEach(f -> response.groups().add(f.result()));
            return response;
        });
    }

    private static byte[] subscription(Set<String> topics) {
        ByteBuffer bytes = ConsumerProtocol.serializeSubscription(
                new ConsumerPartitionAssignor.Subscription(new ArrayList<>(new TreeSet<>(topics))));
        byte[] out = new byte[bytes.remaining()];
        bytes.get(out);
        return out;
    }

    Future<DeleteGroupsResponseData> deleteGroups(DeleteGroupsRequestData request) {
        List<Future<DeleteGroupsResponseData.DeletableGroupResult>> each = request.groupsNames().stream().map(id -> {
            DeleteGroupsResponseData.DeletableGroupResult answer =
                    new DeleteGroupsResponseData.DeletableGroupResult().setGroupId(id);
            return DataRequests.call(() -> broker.deleteGroup(id)).map(v -> answer)
                    .otherwise(e -> answer.setErrorCode(KafkaErrors.of(e).code()));
        }).toList();
        return Future.all(each).map(v -> {
            DeleteGroupsResponseData response = new DeleteGroupsResponseData();
            each.forEach(f -> response.results().add(f.result()));
            return response;
        });
    }

    /** Kafka's name of a group state, as its tools print and filter them. */
    private static String state(GroupState state) {
        return switch (state) {
            case EMPTY -> "Empty";
            case PREPARING_REBALANCE -> "PreparingRebalance";
            case COMPLETING_REBALANCE -> "CompletingRebalance";
            case STABLE -> "Stable";
            case DEAD -> "Dead";
        };
    }

    private static Optional<AssignmentStrategy> strategy(String kafkaName) {
        for (AssignmentStrategy s : AssignmentStrategy.values()) {
            if (JsonMapping.strategy(s).equals(kafkaName)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
