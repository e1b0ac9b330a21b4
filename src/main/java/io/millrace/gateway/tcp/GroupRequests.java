package io.millrace.gateway.tcp;

import io.millrace.broker.Broker;
import io.millrace.broker.GroupDetails;
import io.millrace.broker.json.JsonMapping;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.group.GroupListing;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.MemberDescription;
import io.millrace.group.OffsetAndMetadata;
import io.millrace.protocol.ApiKey;
import io.millrace.protocol.CommitOffsetsRequest;
import io.millrace.protocol.CommitOffsetsRequest.PartitionOffset;
import io.millrace.protocol.DeleteGroupRequest;
import io.millrace.protocol.DescribeGroupRequest;
import io.millrace.protocol.DescribeGroupResponse;
import io.millrace.protocol.FetchOffsetsRequest;
import io.millrace.protocol.FetchOffsetsResponse;
import io.millrace.protocol.GroupAckResponse;
import io.millrace.protocol.HeartbeatRequest;
import io.millrace.protocol.JoinGroupRequest;
import io.millrace.protocol.JoinGroupResponse;
import io.millrace.protocol.LeaveGroupRequest;
import io.millrace.protocol.ListGroupsResponse;
import io.millrace.protocol.Request;
import io.millrace.protocol.ResetOffsetsRequest;
import io.millrace.protocol.Response;
import io.millrace.protocol.TopicPartitions;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The consumer-group requests of protocol version 2 (JOIN_GROUP .. DELETE_GROUP): maps each to its {@link Broker}
 * call and the answer back to a response. Stateless; called on the connection's context.
 */
final class GroupRequests {

    private GroupRequests() {
    }

    /** The call behind a group request; {@code host} is where the client connects from (shown by describe). */
    static Future<? extends Response> answer(Broker broker, Request request, String host) {
        try {
            return switch (request.apiKey()) {
                case JOIN_GROUP -> {
                    JoinGroupRequest join = (JoinGroupRequest) request;
                    yield broker.joinGroup(new JoinRequest(join.groupId(), join.memberId(),
                                join.clientId(), host, new HashSet<>(join.topics()), join.sessionTimeoutMs(),
                                join.rebalanceTimeoutMs(), JsonMapping.parseStrategy(join.strategy())))
                        .map(GroupRequests::joined);
                }
                case HEARTBEAT -> {
                    HeartbeatRequest hb = (HeartbeatRequest) request;
                    yield broker.heartbeat(hb.groupId(), hb.memberId(), hb.generation())
                        .map(v -> new GroupAckResponse(ApiKey.HEARTBEAT));
                }
                case LEAVE_GROUP -> {
                    LeaveGroupRequest leave = (LeaveGroupRequest) request;
                    yield broker.leaveGroup(leave.groupId(), leave.memberId())
                        .map(v -> new GroupAckResponse(ApiKey.LEAVE_GROUP));
                }
                case COMMIT_OFFSETS -> {
                    CommitOffsetsRequest commit = (CommitOffsetsRequest) request;
                    Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
                    commit.offsets().forEach(o -> offsets.put(new TopicPartition(o.topic(), o.partition()),
                            new OffsetAndMetadata(o.offset(), o.metadata())));
                    yield broker.commitOffsets(commit.groupId(), commit.memberId(), commit.generation(), offsets)
                            .map(v -> new GroupAckResponse(ApiKey.COMMIT_OFFSETS));
                }
                case FETCH_OFFSETS -> {
                    FetchOffsetsRequest fetch = (FetchOffsetsRequest) request;
                    List<TopicPartition> wanted = new ArrayList<>();
                    fetch.partitions().forEach(t -> t.partitions().forEach(p ->
                            wanted.add(new TopicPartition(t.topic(), p))));
                    yield broker.fetchOffsets(fetch.groupId(), wanted).map(found -> {
                        List<PartitionOffset> out = new ArrayList<>();
                        found.forEach((tp, o) -> out.add(new PartitionOffset(tp.topic(), tp.partition(), o.offset(),
                                o.metadata())));
                        return new FetchOffsetsResponse(out);
                    });
                }
                case LIST_GROUPS -> {
                    io.millrace.protocol.ListGroupsRequest list = (io.millrace.protocol.ListGroupsRequest) request;
                    yield broker.listGroups().map(all ->
                        new ListGroupsResponse(all.stream().map(GroupRequests::listed).toList()));
                }
                case DESCRIBE_GROUP -> {
                    DescribeGroupRequest describe = (DescribeGroupRequest) request;
                    yield broker.describeGroup(describe.groupId())
                        .map(GroupRequests::described);
                }
                case RESET_OFFSETS -> {
                    ResetOffsetsRequest reset = (ResetOffsetsRequest) request;
                    Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
                    reset.offsets().forEach(o -> offsets.put(new TopicPartition(o.topic(), o.partition()),
                            o.offset()));
                    yield broker.resetOffsets(reset.groupId(), offsets)
                            .map(v -> new GroupAckResponse(ApiKey.RESET_OFFSETS));
                }
                case DELETE_GROUP -> {
                    DeleteGroupRequest delete = (DeleteGroupRequest) request;
                    yield broker.deleteGroup(delete.groupId())
                        .map(v -> new GroupAckResponse(ApiKey.DELETE_GROUP));
                }
                default -> throw new IllegalStateException(request.apiKey() + " is not a group request");
            };
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REQUEST, e.getMessage()));
        }
    }

    static List<TopicPartitions> partitions(Map<String, List<Integer>> byTopic) {
        List<TopicPartitions> out = new ArrayList<>();
        byTopic.forEach((topic, partitions) -> out.add(new TopicPartitions(topic, partitions)));
        return out;
    }

    private static JoinGroupResponse joined(JoinResult r) {
        return new JoinGroupResponse(r.generation(), r.memberId(), JsonMapping.strategy(r.strategy()), r.mustRejoin(),
                partitions(r.assignment()), partitions(r.revoked()));
    }

    private static ListGroupsResponse.Group listed(GroupListing g) {
        return new ListGroupsResponse.Group(g.groupId(), g.state().name(), g.memberCount(),
                g.strategy().map(JsonMapping::strategy).orElse(null));
    }

    private static DescribeGroupResponse described(GroupDetails details) {
        var d = details.description();
        List<DescribeGroupResponse.Member> members = new ArrayList<>();
        for (MemberDescription m : d.members()) {
            members.add(new DescribeGroupResponse.Member(m.memberId(), m.clientId(), m.host(),
                    m.topics().stream().sorted().toList(), partitions(m.assignment())));
        }
        List<DescribeGroupResponse.PartitionLag> lag = details.lag().stream().map(l ->
                new DescribeGroupResponse.PartitionLag(l.partition().topic(), l.partition().partition(),
                        l.owner().orElse(null), l.committed().orElse(-1), l.highWatermark().orElse(-1),
                        l.lag().orElse(-1))).toList();
        return new DescribeGroupResponse(d.groupId(), d.state().name(), d.generation(),
                d.strategy().map(JsonMapping::strategy).orElse(null), members, lag);
    }
}
