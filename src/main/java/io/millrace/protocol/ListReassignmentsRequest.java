package io.millrace.protocol;

/**
 * Lists the partition reassignments in progress (protocol version 5; Kafka's ListPartitionReassignments). The body is
 * empty. Answered by a {@link ListReassignmentsResponse}.
 */
public record ListReassignmentsRequest() implements Request {

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_REASSIGNMENTS;
    }

    void write(WireWriter w) {
        // empty body
    }

    static ListReassignmentsRequest read(WireReader r) {
        return new ListReassignmentsRequest();
    }
}
