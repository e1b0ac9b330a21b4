package io.millrace.gateway.kafka;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerDescription;
import io.millrace.broker.NewTopic;
import io.millrace.broker.PartitionDescription;
import io.millrace.broker.TopicDescription;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.group.OffsetsTopic;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse;

/**
 * Metadata and the admin APIs (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, DescribeCluster),
 * decoded into the broker API's admin calls. Brokers are listed with their Kafka listener's address
 * ({@code kafka.advertised.host}, {@code kafka.port}); a broker without one is left out, as Kafka clients could not
 * reach it. Stateless apart from the broker it calls.
 */
final class AdminRequests {

    /**
     * Millrace clusters have no id of their own; Kafka clients only show it. The same for every Millrace cluster, so
     * tools comparing ids across clusters cannot tell two apart.
     */
    static final String CLUSTER_ID = "millrace";
    /** DescribeCluster's endpointType for brokers (2 asks for KRaft controllers, which Millrace has none of). */
    private static final byte BROKER_ENDPOINTS = 1;

    private final Broker broker;
    private final boolean autoCreateTopics;

    AdminRequests(Broker broker, boolean autoCreateTopics) {
        this.broker = broker;
        this.autoCreateTopics = autoCreateTopics;
    }

    // ---------------------------------------------------------------- Metadata

    /**
     * The live brokers, the controller and the topics asked for (all but internal ones when the request names none:
     * null topics, or an empty list in version 0). Each partition carries its leader, leader epoch, replicas and
     * in-sync replicas, and as offline replicas those whose broker is not alive; a leader that is not a live broker
     * with a Kafka listener is answered LEADER_NOT_AVAILABLE and -1, so that a client waits for the next leader
     * instead of connecting to a dead one. Topics asked for by id get UNKNOWN_TOPIC_ID: Millrace topics have no ids
     * (every topic id is the zero id). A topic named in the request that does not exist is created with the broker
     * defaults when the client allows it (always, before version 4) and {@code auto.create.topics.enable} is on, as
     * Kafka does.
     */
    Future<MetadataResponseData> metadata(MetadataRequestData request, short version) {
        boolean all = request.topics() == null || version == 0 && request.topics().isEmpty();
        List<Uuid> unnamed = new ArrayList<>();
        Future<List<String>> names;
        if (all) {
            names = broker.listTopics();
        } else {
            List<String> named = new ArrayList<>();
            for (MetadataRequestData.MetadataRequestTopic topic : request.topics()) {
                if (topic.name() == null) {
                    unnamed.add(topic.topicId());
                } else {
                    named.add(topic.name());
                }
            }
            names = Future.succeededFuture(named);
        }
        Future<List<BrokerDescription>> brokers = broker.brokers();
        boolean create = !all && autoCreateTopics && (version < 4 || request.allowAutoTopicCreation());
        Future<List<MetadataResponseData.MetadataResponseTopic>> topics = names.compose(list -> {
            List<Future<MetadataResponseData.MetadataResponseTopic>> each = list.stream()
                    .map(name -> describe(name, create).map(AdminRequests::metadataTopic)
                            .otherwise(e -> new MetadataResponseData.MetadataResponseTopic().setName(name)
                                    .setErrorCode(KafkaErrors.of(e).code())))
                    .toList();
            return Future.all(each).map(v -> each.stream().map(Future::result).toList());
        });
        return Future.all(brokers, topics).map(v -> {
            Set<Integer> alive = brokers.result().stream().filter(BrokerDescription::alive)
                    .map(BrokerDescription::id).collect(Collectors.toSet());
            List<BrokerDescription> listed = withKafkaListener(brokers.result());
            Set<Integer> reachable = listed.stream().map(BrokerDescription::id).collect(Collectors.toSet());
            MetadataResponseData response = new MetadataResponseData().setClusterId(CLUSTER_ID)
                    .setControllerId(controller(listed));
            for (BrokerDescription b : listed) {
                response.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(b.id())
                        .setHost(b.kafkaHost()).setPort(b.kafkaPort()));
            }
            for (MetadataResponseData.MetadataResponseTopic topic : topics.result()) {
                for (MetadataResponseData.MetadataResponsePartition p : topic.partitions()) {
                    if (!reachable.contains(p.leaderId())) {
                        p.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1);
                    }
                    p.setOfflineReplicas(p.replicaNodes().stream().filter(id -> !alive.contains(id)).toList());
                }
                response.topics().add(topic);
            }
            for (Uuid id : unnamed) {
                response.topics().add(new MetadataResponseData.MetadataResponseTopic()
                        .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()).setName(null).setTopicId(id));
            }
            return response;
        });
    }

    /** The topic, created first when it does not exist and {@code create} says so. */
    private Future<TopicDescription> describe(String name, boolean create) {
        Future<TopicDescription> described = DataRequests.call(() -> broker.describeTopic(name));
        if (!create) {
            return described;
        }
        return described.recover(e -> {
            if (!(e instanceof MillraceException m && m.errorCode() == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)) {
                return Future.failedFuture(e);
            }
            // Another client may create it meanwhile: then it exists, which is all this asks for.
            return DataRequests.call(() -> broker.createTopic(new NewTopic(name, OptionalInt.empty(),
                    OptionalInt.empty(), Map.of()))).recover(raced -> broker.describeTopic(name));
        });
    }

    private static MetadataResponseData.MetadataResponseTopic metadataTopic(TopicDescription topic) {
        MetadataResponseData.MetadataResponseTopic answer = new MetadataResponseData.MetadataResponseTopic()
                .setName(topic.name()).setIsInternal(OffsetsTopic.NAME.equals(topic.name()));
        for (PartitionDescription p : topic.partitions()) {
            answer.partitions().add(new MetadataResponseData.MetadataResponsePartition()
                    .setPartitionIndex(p.partition()).setLeaderId(p.leader()).setLeaderEpoch(p.leaderEpoch())
                    .setReplicaNodes(p.replicas()).setIsrNodes(p.isr()));
        }
        return answer;
    }

    /** The live brokers that have a Kafka listener. */
    private Future<List<BrokerDescription>> kafkaBrokers() {
        return broker.brokers().map(AdminRequests::withKafkaListener);
    }

    private static List<BrokerDescription> withKafkaListener(List<BrokerDescription> brokers) {
        return brokers.stream().filter(b -> b.alive() && b.kafkaPort() > 0).toList();
    }

    /**
     * The controller, which Kafka's admin client sends topic changes to; any Millrace broker answers them, so this
     * broker stands in when the controller has no Kafka listener.
     */
    private int controller(List<BrokerDescription> brokers) {
        return brokers.stream().filter(BrokerDescription::controller).mapToInt(BrokerDescription::id).findFirst()
                .orElse(broker.brokerId());
    }

    // ---------------------------------------------------------------- DescribeCluster

    Future<DescribeClusterResponseData> describeCluster(DescribeClusterRequestData request) {
        if (request.endpointType() != BROKER_ENDPOINTS) {
            return Future.succeededFuture(new DescribeClusterResponseData()
                    .setErrorCode(Errors.UNSUPPORTED_ENDPOINT_TYPE.code())
                    .setErrorMessage("Millrace has no KRaft controllers; describe the brokers")
                    .setEndpointType(request.endpointType()).setClusterId(CLUSTER_ID));
        }
        return kafkaBrokers().map(brokers -> {
            DescribeClusterResponseData response = new DescribeClusterResponseData().setClusterId(CLUSTER_ID)
                    .setEndpointType(BROKER_ENDPOINTS).setControllerId(controller(brokers));
            for (BrokerDescription b : brokers) {
                response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker().setBrokerId(b.id())
                        .setHost(b.kafkaHost()).setPort(b.kafkaPort()));
            }
            return response;
        });
    }

    // ---------------------------------------------------------------- topics

    /**
     * Creates each topic; -1 partitions or replication factor take the broker defaults. Manual replica assignments
     * and validate-only requests are refused with INVALID_REQUEST: Millrace places replicas itself and cannot check a
     * create without doing it.
     */
    Future<CreateTopicsResponseData> createTopics(CreateTopicsRequestData request) {
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        List<Future<?>> results = new ArrayList<>();
        for (CreateTopicsRequestData.CreatableTopic topic : request.topics()) {
            CreateTopicsResponseData.CreatableTopicResult result = new CreateTopicsResponseData.CreatableTopicResult()
                    .setName(topic.name());
            response.topics().add(result);
            if (request.validateOnly() || !topic.assignments().isEmpty()) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(request.validateOnly()
                        ? "Millrace cannot validate a topic without creating it; send validateOnly=false"
                        : "Millrace assigns replicas itself; send a partition count and replication factor instead");
                continue;
            }
            Map<String, String> config = new HashMap<>();
            topic.configs().forEach(c -> config.put(c.name(), c.value()));
            NewTopic newTopic = new NewTopic(topic.name(), orDefault(topic.numPartitions()),
                    orDefault(topic.replicationFactor()), config);
            results.add(DataRequests.call(() -> broker.createTopic(newTopic)).map(created -> {
                result.setNumPartitions(created.partitions().size())
                        .setReplicationFactor((short) created.replicationFactor());
                created.config().forEach((name, value) -> result.configs().add(
                        new CreateTopicsResponseData.CreatableTopicConfigs().setName(name).setValue(value)
                                .setConfigSource(DescribeConfigsResponse.ConfigSource.TOPIC_CONFIG.id())));
                return result;
            }).otherwise(e -> result.setErrorCode(KafkaErrors.of(e).code()).setErrorMessage(KafkaErrors.message(e))));
        }
        return Future.all(results).map(v -> response);
    }

    private static OptionalInt orDefault(int value) {
        return value < 0 ? OptionalInt.empty() : OptionalInt.of(value);
    }

    /** Deletes topics named in {@code topicNames} (versions 0-5) or {@code topics} (6+; by id gets UNKNOWN_TOPIC_ID). */
    Future<DeleteTopicsResponseData> deleteTopics(DeleteTopicsRequestData request) {
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        List<Future<?>> results = new ArrayList<>();
        List<String> names = new ArrayList<>(request.topicNames());
        for (DeleteTopicsRequestData.DeleteTopicState topic : request.topics()) {
            if (topic.name() == null) {
                response.responses().add(new DeleteTopicsResponseData.DeletableTopicResult().setName(null)
                        .setTopicId(topic.topicId()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())
                        .setErrorMessage("Millrace topics have no ids; delete by name"));
            } else {
                names.add(topic.name());
            }
        }
        for (String name : names) {
            DeleteTopicsResponseData.DeletableTopicResult result =
                    new DeleteTopicsResponseData.DeletableTopicResult().setName(name);
            response.responses().add(result);
            results.add(DataRequests.call(() -> broker.deleteTopic(name)).map(v -> result)
                    .otherwise(e -> result.setErrorCode(KafkaErrors.of(e).code())
                            .setErrorMessage(KafkaErrors.message(e))));
        }
        return Future.all(results).map(v -> response);
    }

    /** Grows each topic to its new count; manual assignments and validate-only are refused as in createTopics. */
    Future<CreatePartitionsResponseData> createPartitions(CreatePartitionsRequestData request) {
        CreatePartitionsResponseData response = new CreatePartitionsResponseData();
        List<Future<?>> results = new ArrayList<>();
        for (CreatePartitionsRequestData.CreatePartitionsTopic topic : request.topics()) {
            CreatePartitionsResponseData.CreatePartitionsTopicResult result =
                    new CreatePartitionsResponseData.CreatePartitionsTopicResult().setName(topic.name());
            response.results().add(result);
            if (request.validateOnly() || topic.assignments() != null) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(request.validateOnly()
                        ? "Millrace cannot validate new partitions without adding them; send validateOnly=false"
                        : "Millrace assigns replicas itself; send the new partition count only");
                continue;
            }
            results.add(DataRequests.call(() -> broker.addPartitions(topic.name(), topic.count())).map(t -> result)
                    .otherwise(e -> result.setErrorCode(KafkaErrors.of(e).code())
                            .setErrorMessage(KafkaErrors.message(e))));
        }
        return Future.all(results).map(v -> response);
    }

    // ---------------------------------------------------------------- DescribeConfigs

    /**
     * A topic's own settings (those given when it was created; the broker defaults it takes for the rest are not
     * listed), filtered by the requested keys. Other resource types (brokers, loggers) are answered INVALID_REQUEST.
     */
    Future<DescribeConfigsResponseData> describeConfigs(DescribeConfigsRequestData request) {
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        List<Future<?>> results = new ArrayList<>();
        for (DescribeConfigsRequestData.DescribeConfigsResource resource : request.resources()) {
            DescribeConfigsResponseData.DescribeConfigsResult result =
                    new DescribeConfigsResponseData.DescribeConfigsResult().setResourceType(resource.resourceType())
                            .setResourceName(resource.resourceName());
            response.results().add(result);
            if (resource.resourceType() != ConfigResource.Type.TOPIC.id()) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Millrace describes the configs"
                        + " of topics only; broker settings are in its config file (docs/OPERATIONS.md)");
                continue;
            }
            List<String> keys = resource.configurationKeys();
            results.add(DataRequests.call(() -> broker.describeTopic(resource.resourceName())).map(topic -> {
                topic.config().entrySet().stream().filter(e -> keys == null || keys.contains(e.getKey()))
                        .sorted(Map.Entry.comparingByKey())
                        .forEach(e -> result.configs().add(
                                new DescribeConfigsResponseData.DescribeConfigsResourceResult().setName(e.getKey())
                                        .setValue(e.getValue())
                                        .setConfigSource(DescribeConfigsResponse.ConfigSource.TOPIC_CONFIG.id())));
                return result;
            }).otherwise(e -> result.setErrorCode(KafkaErrors.of(e).code()).setErrorMessage(KafkaErrors.message(e))));
        }
        return Future.all(results).map(v -> response);
    }
}
