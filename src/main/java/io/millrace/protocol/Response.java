package io.millrace.protocol;

/**
 * A message a server sends in answer to a request: the body of a successful response, or an {@link ErrorResponse}
 * when the request failed as a whole. Operations that cover several partitions report per-partition errors inside a
 * successful body.
 */
public sealed interface Response extends Message permits HandshakeResponse, MetadataResponse, ProduceResponse,
        FetchResponse, ListOffsetsResponse, SubscribeResponse, UnsubscribeResponse, CreateTopicResponse,
        DeleteTopicResponse, DescribeTopicResponse, ListTopicsResponse, AddPartitionsResponse, InitProducerIdResponse,
        JoinGroupResponse, FetchOffsetsResponse, ListGroupsResponse, DescribeGroupResponse, GroupAckResponse,
        AlterReassignmentsResponse, ListReassignmentsResponse, ErrorResponse {
}
