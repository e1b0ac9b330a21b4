package io.millrace.protocol;

import io.millrace.protocol.CommitOffsetsRequest.PartitionOffset;
import java.util.List;
import java.util.Objects;

/**
 * Sets the committed offsets of a group without members (GROUP_NOT_EMPTY otherwise). Answered by an empty
 * {@link GroupAckResponse}.
 *
 * @param offsets not null; each entry's metadata is ignored
 */
public record ResetOffsetsRequest(String groupId, List<PartitionOffset> offsets) implements Request {

    public ResetOffsetsRequest {
        Objects.requireNonNull(groupId, "groupId");
        offsets = Require.list(offsets, "offsets");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.RESET_OFFSETS;
    }

    void write(WireWriter w) {
        w.string(groupId);
        PartitionOffset.writeAll(w, offsets);
    }

    static ResetOffsetsRequest read(WireReader r) {
        return new ResetOffsetsRequest(r.string("groupId"), PartitionOffset.readAll(r, "offsets"));
    }
}
