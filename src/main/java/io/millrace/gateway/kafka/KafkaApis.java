package io.millrace.gateway.kafka;

import io.millrace.broker.Broker;
import io.vertx.core.Future;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * The Kafka APIs this broker answers, in which versions, and which call answers each. ApiVersions tells clients
 * exactly this table, so a client never sends a request the broker cannot answer: an API left out makes the client
 * fail with Kafka's own UnsupportedVersionException instead of hanging.
 *
 * <p>Upper bounds below the kafka-clients version's own latest are deliberate: Produce and Fetch from version 13, and
 * OffsetCommit and OffsetFetch from version 10, name topics by topic id, which Millrace topics do not have, so clients
 * use the versions that name them.
 *
 * <p>One instance per connection; not thread-safe (the connection's event loop calls it).
 */
final class KafkaApis {

    /** A version range as ApiVersions announces it. */
    record VersionRange(short min, short max) {
    }

    /** A request that ends its connection instead of being answered (PRODUCE with acks 0 that failed). */
    static final class Unanswerable extends RuntimeException {

        Unanswerable(String reason) {
            super(reason, null, false, false);
        }
    }

    static final Map<ApiKeys, VersionRange> SUPPORTED = new EnumMap<>(ApiKeys.class);

    static {
        support(ApiKeys.API_VERSIONS);
        support(ApiKeys.METADATA);
        support(ApiKeys.PRODUCE, 12);
        support(ApiKeys.FETCH, 12);
        support(ApiKeys.LIST_OFFSETS);
        support(ApiKeys.DELETE_RECORDS);
        support(ApiKeys.OFFSET_FOR_LEADER_EPOCH);
        support(ApiKeys.INIT_PRODUCER_ID);
        support(ApiKeys.CREATE_TOPICS);
        support(ApiKeys.DELETE_TOPICS);
        support(ApiKeys.CREATE_PARTITIONS);
        support(ApiKeys.DESCRIBE_CONFIGS);
        support(ApiKeys.DESCRIBE_CLUSTER);
        support(ApiKeys.FIND_COORDINATOR);
        support(ApiKeys.JOIN_GROUP);
        support(ApiKeys.SYNC_GROUP);
        support(ApiKeys.HEARTBEAT);
        support(ApiKeys.LEAVE_GROUP);
        support(ApiKeys.OFFSET_COMMIT, 9);
        support(ApiKeys.OFFSET_FETCH, 9);
        support(ApiKeys.LIST_GROUPS);
        support(ApiKeys.DESCRIBE_GROUPS);
        support(ApiKeys.DELETE_GROUPS);
    }

    private static void support(ApiKeys key) {
        support(key, key.latestVersion());
    }

    private static void support(ApiKeys key, int max) {
        SUPPORTED.put(key, new VersionRange(key.oldestVersion(), (short) Math.min(max, key.latestVersion())));
    }

    private final DataRequests data;
    private final AdminRequests admin;
    private final GroupApis groups;

    /** @param host the client's address, which group admin tools show for its members */
    KafkaApis(Broker broker, KafkaSettings settings, String host) {
        this.admin = new AdminRequests(broker, settings.autoCreateTopics());
        this.data = new DataRequests(broker);
        this.groups = new GroupApis(broker, host);
    }

    boolean supports(ApiKeys key, short version) {
        VersionRange range = SUPPORTED.get(key);
        return range != null && version >= range.min() && version <= range.max();
    }

    /** The supported versions of {@code key} in words, for log lines. */
    String describeSupport(ApiKeys key) {
        VersionRange range = SUPPORTED.get(key);
        return range == null ? "not listed" : "versions " + range.min() + " to " + range.max();
    }

    /** ApiVersions' answer to a version it does not know: UNSUPPORTED_VERSION with the table, for version 0. */
    ApiVersionsResponseData unsupportedApiVersions() {
        return apiVersions().setErrorCode(Errors.UNSUPPORTED_VERSION.code());
    }

    /**
     * Answers a decoded request of a supported version. Completes with the response, or empty for a request that
     * has none (PRODUCE with acks 0); fails with {@link Unanswerable} when the connection must close instead.
     */
    Future<Optional<ApiMessage>> answer(ApiKeys key, short version, String clientId, ApiMessage request) {
        Future<? extends ApiMessage> response = switch (key) {
            case API_VERSIONS -> Future.succeededFuture(apiVersions());
            case METADATA -> admin.metadata((MetadataRequestData) request, version);
            case PRODUCE -> {
                ProduceRequestData produce = (ProduceRequestData) request;
                yield data.produce(produce).map(r -> produce.acks() == 0 ? null : r);
            }
            case FETCH -> data.fetch((FetchRequestData) request);
            case LIST_OFFSETS -> data.listOffsets((ListOffsetsRequestData) request);
            case DELETE_RECORDS -> data.deleteRecords((DeleteRecordsRequestData) request);
            case OFFSET_FOR_LEADER_EPOCH -> data.offsetForLeaderEpoch((OffsetForLeaderEpochRequestData) request);
            case INIT_PRODUCER_ID -> data.initProducerId((InitProducerIdRequestData) request);
            case CREATE_TOPICS -> admin.createTopics((CreateTopicsRequestData) request);
            case DELETE_TOPICS -> admin.deleteTopics((DeleteTopicsRequestData) request);
            case CREATE_PARTITIONS -> admin.createPartitions((CreatePartitionsRequestData) request);
            case DESCRIBE_CONFIGS -> admin.describeConfigs((DescribeConfigsRequestData) request);
            case DESCRIBE_CLUSTER -> admin.describeCluster((DescribeClusterRequestData) request);
            case FIND_COORDINATOR -> groups.findCoordinator((FindCoordinatorRequestData) request, version);
            case JOIN_GROUP -> groups.joinGroup((JoinGroupRequestData) request, version, clientId);
            case SYNC_GROUP -> groups.syncGroup((SyncGroupRequestData) request);
            case HEARTBEAT -> groups.heartbeat((HeartbeatRequestData) request);
            case LEAVE_GROUP -> groups.leaveGroup((LeaveGroupRequestData) request, version);
            case OFFSET_COMMIT -> groups.offsetCommit((OffsetCommitRequestData) request);
            case OFFSET_FETCH -> groups.offsetFetch((OffsetFetchRequestData) request, version);
            case LIST_GROUPS -> groups.listGroups((ListGroupsRequestData) request);
            case DESCRIBE_GROUPS -> groups.describeGroups((DescribeGroupsRequestData) request);
            case DELETE_GROUPS -> groups.deleteGroups((DeleteGroupsRequestData) request);
            default -> throw new IllegalStateException(key + " is announced in ApiVersions but not answered");
        };
        return response.map(Optional::ofNullable);
    }

    private static ApiVersionsResponseData apiVersions() {
        ApiVersionsResponseData.ApiVersionCollection versions = new ApiVersionsResponseData.ApiVersionCollection();
        SUPPORTED.forEach((key, range) -> versions.add(new ApiVersionsResponseData.ApiVersion()
                .setApiKey(key.id).setMinVersion(range.min()).setMaxVersion(range.max())));
        return new ApiVersionsResponseData().setErrorCode(Errors.NONE.code()).setApiKeys(versions);
    }
}
