package io.millrace.protocol;

/** Lists the groups the broker coordinates. The body is empty. Answered by a {@link ListGroupsResponse}. */
public record ListGroupsRequest() implements Request {

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_GROUPS;
    }

    void write(WireWriter w) {
        // empty body
    }

    static ListGroupsRequest read(WireReader r) {
        return new ListGroupsRequest();
    }
}
