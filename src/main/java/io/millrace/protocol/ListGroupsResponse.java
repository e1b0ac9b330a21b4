package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/** The groups a broker coordinates, sorted by id. */
public record ListGroupsResponse(List<Group> groups) implements Response {

    public ListGroupsResponse {
        groups = Require.list(groups, "groups");
    }

    /**
     * @param state    EMPTY, PREPARING_REBALANCE, COMPLETING_REBALANCE, STABLE or DEAD
     * @param strategy null while the group has no members
     */
    public record Group(String groupId, String state, int memberCount, String strategy) {

        public Group {
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(state, "state");
            Require.nonNegative(memberCount, "memberCount");
        }
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_GROUPS;
    }

    void write(WireWriter w) {
        w.count(groups.size());
        for (Group g : groups) {
            w.string(g.groupId);
            w.string(g.state);
            w.int32(g.memberCount);
            w.nullableString(g.strategy);
        }
    }

    static ListGroupsResponse read(WireReader r) {
        int n = r.count("groups", 10);
        List<Group> groups = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            groups.add(new Group(r.string("groupId"), r.string("state"), r.int32("memberCount"),
                    r.nullableString("strategy")));
        }
        return new ListGroupsResponse(groups);
    }
}
