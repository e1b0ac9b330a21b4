package io.millrace.protocol;

import io.millrace.protocol.CommitOffsetsRequest.PartitionOffset;
import java.util.List;

/**
 * A group's committed offsets; a partition without a commit is absent (the consumer applies its reset policy).
 *
 * @param offsets not null
 */
public record FetchOffsetsResponse(List<PartitionOffset> offsets) implements Response {

    public FetchOffsetsResponse {
        offsets = Require.list(offsets, "offsets");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.FETCH_OFFSETS;
    }

    void write(WireWriter w) {
        PartitionOffset.writeAll(w, offsets);
    }

    static FetchOffsetsResponse read(WireReader r) {
        return new FetchOffsetsResponse(PartitionOffset.readAll(r, "offsets"));
    }
}
