package io.millrace.protocol;

import java.util.List;

/**
 * The names of all topics.
 *
 * @param names not null
 */
public record ListTopicsResponse(List<String> names) implements Response {

    public ListTopicsResponse {
        names = Require.list(names, "names");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_TOPICS;
    }

    void write(WireWriter w) {
        w.stringArray(names);
    }

    static ListTopicsResponse read(WireReader r) {
        return new ListTopicsResponse(r.stringArray("names"));
    }
}
