package io.millrace.protocol;

/** A message a client sends. One record per {@link ApiKey} except {@link ApiKey#PUSH}. */
public sealed interface Request extends Message permits HandshakeRequest, MetadataRequest, ProduceRequest,
        FetchRequest, ListOffsetsRequest, SubscribeRequest, CreditRequest, UnsubscribeRequest, CreateTopicRequest,
        DeleteTopicRequest, DescribeTopicRequest, ListTopicsRequest, AddPartitionsRequest, InitProducerIdRequest,
        JoinGroupRequest, HeartbeatRequest, LeaveGroupRequest, CommitOffsetsRequest, FetchOffsetsRequest,
        ListGroupsRequest, DescribeGroupRequest, ResetOffsetsRequest, DeleteGroupRequest, AlterReassignmentsRequest,
        ListReassignmentsRequest {

    /**
     * Whether the server answers this request with a response frame. False for {@link CreditRequest} and for a
     * {@link ProduceRequest} with {@link ProduceRequest.Acks#NONE}; a client must not wait for those.
     */
    default boolean expectsResponse() {
        return apiKey().hasResponse();
    }
}
