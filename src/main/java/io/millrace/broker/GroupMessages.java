package io.millrace.broker;

import io.millrace.common.TopicPartition;
import io.millrace.group.AssignmentStrategy;
import io.millrace.group.CommittedOffset;
import io.millrace.group.GroupDescription;
import io.millrace.group.GroupListing;
import io.millrace.group.GroupState;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.MemberDescription;
import io.millrace.group.OffsetAndMetadata;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Group requests and answers as JSON, for {@link Forwarded.GroupCall}: a group's calls go to the broker that
 * coordinates it. These are small and rare next to record traffic, so a readable form is worth more than a compact
 * one. Each pair of methods is the inverse of the other.
 */
final class GroupMessages {

    private GroupMessages() {
    }

    static JsonObject joinRequest(JoinRequest r) {
        return new JsonObject().put("groupId", r.groupId()).put("memberId", r.memberId()).put("clientId", r.clientId())
                .put("host", r.host()).put("topics", new JsonArray(new ArrayList<>(r.topics())))
                .put("sessionTimeoutMs", r.sessionTimeoutMs()).put("rebalanceTimeoutMs", r.rebalanceTimeoutMs())
                .put("strategy", r.strategy().name());
    }

    static JoinRequest joinRequest(JsonObject j) {
        return new JoinRequest(j.getString("groupId"), j.getString("memberId"), j.getString("clientId"),
                j.getString("host"), strings(j.getJsonArray("topics")), j.getInteger("sessionTimeoutMs"),
                j.getInteger("rebalanceTimeoutMs"), AssignmentStrategy.valueOf(j.getString("strategy")));
    }

    static JsonObject joinResult(JoinResult r) {
        return new JsonObject().put("generation", r.generation()).put("memberId", r.memberId())
                .put("strategy", r.strategy().name()).put("assignment", byTopic(r.assignment()))
                .put("revoked", byTopic(r.revoked())).put("mustRejoin", r.mustRejoin());
    }

    static JoinResult joinResult(JsonObject j) {
        return new JoinResult(j.getInteger("generation"), j.getString("memberId"),
                AssignmentStrategy.valueOf(j.getString("strategy")), byTopic(j.getJsonObject("assignment")),
                byTopic(j.getJsonObject("revoked")), j.getBoolean("mustRejoin"));
    }

    static JsonArray offsets(Map<TopicPartition, OffsetAndMetadata> offsets) {
        JsonArray out = new JsonArray();
        offsets.forEach((tp, o) -> out.add(partition(tp).put("offset", o.offset()).put("metadata", o.metadata())));
        return out;
    }

    static Map<TopicPartition, OffsetAndMetadata> offsets(JsonArray j) {
        Map<TopicPartition, OffsetAndMetadata> out = new LinkedHashMap<>();
        for (Object o : j) {
            JsonObject e = (JsonObject) o;
            out.put(partition(e), new OffsetAndMetadata(e.getLong("offset"), e.getString("metadata")));
        }
        return out;
    }

    static JsonArray positions(Map<TopicPartition, Long> offsets) {
        JsonArray out = new JsonArray();
        offsets.forEach((tp, offset) -> out.add(partition(tp).put("offset", offset)));
        return out;
    }

    static Map<TopicPartition, Long> positions(JsonArray j) {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        for (Object o : j) {
            out.put(partition((JsonObject) o), ((JsonObject) o).getLong("offset"));
        }
        return out;
    }

    static JsonArray partitions(Collection<TopicPartition> partitions) {
        JsonArray out = new JsonArray();
        partitions.forEach(tp -> out.add(partition(tp)));
        return out;
    }

    static List<TopicPartition> partitions(JsonArray j) {
        List<TopicPartition> out = new ArrayList<>();
        for (Object o : j) {
            out.add(partition((JsonObject) o));
        }
        return out;
    }

    static JsonArray listings(List<GroupListing> listings) {
        JsonArray out = new JsonArray();
        for (GroupListing l : listings) {
            out.add(new JsonObject().put("groupId", l.groupId()).put("state", l.state().name())
                    .put("memberCount", l.memberCount()).put("strategy", l.strategy().map(Enum::name).orElse(null)));
        }
        return out;
    }

    static List<GroupListing> listings(JsonArray j) {
        List<GroupListing> out = new ArrayList<>();
        for (Object o : j) {
            JsonObject l = (JsonObject) o;
            out.add(new GroupListing(l.getString("groupId"), GroupState.valueOf(l.getString("state")),
                    l.getInteger("memberCount"), strategy(l)));
        }
        return out;
    }

    static JsonObject description(GroupDescription d) {
        JsonArray members = new JsonArray();
        for (MemberDescription m : d.members()) {
            members.add(new JsonObject().put("memberId", m.memberId()).put("clientId", m.clientId())
                    .put("host", m.host()).put("topics", new JsonArray(new ArrayList<>(m.topics())))
                    .put("assignment", byTopic(m.assignment())));
        }
        JsonArray offsets = new JsonArray();
        d.offsets().forEach((tp, c) -> offsets.add(partition(tp).put("offset", c.offset())
                .put("metadata", c.metadata()).put("commitTimestamp", c.commitTimestamp())));
        return new JsonObject().put("groupId", d.groupId()).put("state", d.state().name())
                .put("generation", d.generation()).put("strategy", d.strategy().map(Enum::name).orElse(null))
                .put("members", members).put("offsets", offsets);
    }

    static GroupDescription description(JsonObject j) {
        List<MemberDescription> members = new ArrayList<>();
        for (Object o : j.getJsonArray("members")) {
            JsonObject m = (JsonObject) o;
            members.add(new MemberDescription(m.getString("memberId"), m.getString("clientId"), m.getString("host"),
                    strings(m.getJsonArray("topics")), byTopic(m.getJsonObject("assignment"))));
        }
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>();
        for (Object o : j.getJsonArray("offsets")) {
            JsonObject c = (JsonObject) o;
            offsets.put(partition(c), new CommittedOffset(c.getLong("offset"), c.getString("metadata"),
                    c.getLong("commitTimestamp")));
        }
        return new GroupDescription(j.getString("groupId"), GroupState.valueOf(j.getString("state")),
                j.getInteger("generation"), strategy(j), members, offsets);
    }

    private static Optional<AssignmentStrategy> strategy(JsonObject j) {
        return Optional.ofNullable(j.getString("strategy")).map(AssignmentStrategy::valueOf);
    }

    private static JsonObject partition(TopicPartition tp) {
        return new JsonObject().put("topic", tp.topic()).put("partition", tp.partition());
    }

    private static TopicPartition partition(JsonObject j) {
        return new TopicPartition(j.getString("topic"), j.getInteger("partition"));
    }

    private static Set<String> strings(JsonArray j) {
        Set<String> out = new LinkedHashSet<>();
        j.forEach(o -> out.add((String) o));
        return out;
    }

    private static JsonObject byTopic(Map<String, List<Integer>> assignment) {
        JsonObject out = new JsonObject();
        assignment.forEach((topic, partitions) -> out.put(topic, new JsonArray(new ArrayList<>(partitions))));
        return out;
    }

    private static Map<String, List<Integer>> byTopic(JsonObject j) {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        for (String topic : j.fieldNames()) {
            List<Integer> partitions = new ArrayList<>();
            j.getJsonArray(topic).forEach(p -> partitions.add(((Number) p).intValue()));
            out.put(topic, partitions);
        }
        return out;
    }
}
