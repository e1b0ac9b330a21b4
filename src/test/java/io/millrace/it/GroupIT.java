package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.ConsumerRecord;
import io.millrace.client.GroupOptions;
import io.millrace.client.MillraceClient;
import io.millrace.client.Seek;
import io.millrace.common.ErrorCode;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.CommitOffsetsRequest;
import io.millrace.protocol.HeartbeatRequest;
import io.millrace.protocol.JoinGroupRequest;
import io.millrace.protocol.JoinGroupResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * Consumer groups over real sockets against a real broker process: assignment, eviction of a member that leaves or
 * is SIGKILLed (a member in its own process), cooperative hand-over, generation fencing, exactly-where-committed
 * resumption, and lag.
 */
class GroupIT {

    static final Duration WAIT = Duration.ofSeconds(30);
    static BrokerProcess broker;
    static MillraceClient client;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("groups", overrides());
        rest = new Rest(broker.baseUrl());
        client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.tcpPort()).withClientId("it"));
    }

    /** Short delays and sessions, so that rebalances and evictions take a second or two. */
    static Map<String, String> overrides() {
        return Map.of("group.initial.rebalance.delay.ms", "300", "group.min.session.timeout.ms", "1000");
    }

    @AfterAll
    static void stop() {
        client.close();
        broker.close();
    }

    static GroupOptions options(String strategy, Collection<TopicPartition> assigned,
                                Collection<TopicPartition> revoked) {
        return GroupOptions.defaults().withStrategy(strategy)
                .withSessionTimeout(Duration.ofMillis(3_000), Duration.ofMillis(300))
                .withRebalanceTimeout(Duration.ofSeconds(5))
                .withAutoCommit(Duration.ofMillis(200))
                .withRebalanceListener(assigned::addAll, tps -> {
                    revoked.addAll(tps);
                    assigned.removeAll(tps);
                });
    }

    /** Member id → its partitions, from describe. */
    static Map<String, Set<Integer>> assignments(JsonObject group) {
        Map<String, Set<Integer>> out = new HashMap<>();
        for (Object o : group.getJsonArray("members")) {
            JsonObject m = (JsonObject) o;
            Set<Integer> ps = new HashSet<>();
            for (Object a : m.getJsonArray("assignment")) {
                ((JsonObject) a).getJsonArray("partitions").forEach(p -> ps.add((Integer) p));
            }
            out.put(m.getString("memberId"), ps);
        }
        return out;
    }

    static JsonObject describe(String group) {
        Rest.Response r = rest.get("/api/groups/" + group);
        return r.status() == 200 ? r.json() : new JsonObject().put("state", "UNKNOWN").put("members", new JsonArray());
    }

    static JsonObject awaitStable(String group, int members) {
        JsonObject[] last = new JsonObject[1];
        try {
            await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
                last[0] = describe(group);
                return "STABLE".equals(last[0].getString("state"))
                        && last[0].getJsonArray("members").size() == members;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("Group " + group + " is not stable with " + members + " members: " + last[0], e);
        }
        return last[0];
    }

    static void assertEvenAndDisjoint(Map<String, Set<Integer>> assignments, int partitions) {
        Set<Integer> union = new HashSet<>();
        int total = 0;
        for (Set<Integer> ps : assignments.values()) {
            assertThat(ps).hasSize(partitions / assignments.size());
            union.addAll(ps);
            total += ps.size();
        }
        assertThat(total).isEqualTo(partitions);
        assertThat(union).hasSize(partitions);
    }

    @Test
    void threeMembersShareSixPartitionsAndALeaversPartitionsMove() {
        rest.createTopic("g-three", 6);
        List<Disposable> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(client.consumer(ConsumerConfig.defaults())
                    .subscribe(List.of("g-three"), "three", options("range", new CopyOnWriteArrayList<>(),
                            new CopyOnWriteArrayList<>()))
                    .receive().subscribe());
        }
        try {
            assertEvenAndDisjoint(assignments(awaitStable("three", 3)), 6);

            members.remove(0).dispose(); // a clean leave: the others rebalance at once
            long left = System.nanoTime();
            assertEvenAndDisjoint(assignments(awaitStable("three", 2)), 6);
            assertThat(Duration.ofNanos(System.nanoTime() - left)).isLessThan(Duration.ofSeconds(3));
        } finally {
            members.forEach(Disposable::dispose);
        }
    }

    @Test
    void aSigkilledMemberIsEvictedWithinItsSessionAndItsSuccessorStartsExactlyAtItsCommit() throws Exception {
        rest.createTopic("g-crash", 1);
        JsonArray records = new JsonArray();
        for (int i = 0; i < 100; i++) {
            records.add(new JsonObject().put("value", "v" + i));
        }
        assertThat(rest.post("/api/topics/g-crash/records", new JsonObject().put("records", records)
                .put("acks", "all")).status()).isEqualTo(200);

        MemberProcess member = MemberProcess.start(broker.tcpPort(), "g-crash", "crash", "range", 30);
        try {
            member.awaitLine(l -> l.startsWith("COMMITTED 0 30"));
            assertThat(assignments(awaitStable("crash", 1))).hasSize(1);

            member.kill();
            long killed = System.nanoTime();
            await().atMost(WAIT).pollInterval(Duration.ofMillis(100))
                    .until(() -> describe("crash").getJsonArray("members").isEmpty());
            // session timeout 2 s, plus the coordinator's tick and this poll
            assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofMillis(2_000 + 1_500));
        } finally {
            member.kill();
        }
        JsonObject lag = describe("crash").getJsonArray("partitions").getJsonObject(0);
        assertThat(lag.getLong("committed")).isEqualTo(30);
        assertThat(lag.getLong("lag")).isEqualTo(70);

        ConsumerRecord first = client.consumer(ConsumerConfig.defaults())
                .subscribe(List.of("g-crash"), "crash", options("range", new ArrayList<>(), new ArrayList<>()))
                .receive().next().block(WAIT);
        assertThat(first.offset()).isEqualTo(30);
        assertThat(first.valueAsString()).isEqualTo("v30");
    }

    @Test
    void aSigkilledMembersPartitionsAreReassigned() throws Exception {
        rest.createTopic("g-evict", 4);
        Disposable local = client.consumer(ConsumerConfig.defaults())
                .subscribe(List.of("g-evict"), "evict", options("range", new ArrayList<>(), new ArrayList<>()))
                .receive().subscribe();
        MemberProcess member = MemberProcess.start(broker.tcpPort(), "g-evict", "evict", "range", 0);
        try {
            assertEvenAndDisjoint(assignments(awaitStable("evict", 2)), 4);
            member.kill();
            Map<String, Set<Integer>> after = assignments(awaitStable("evict", 1));
            assertThat(after.values().iterator().next()).containsExactlyInAnyOrder(0, 1, 2, 3);
        } finally {
            member.kill();
            local.dispose();
        }
    }

    @Test
    void cooperativeStickyRevokesOnlyTheMovedPartitions() {
        rest.createTopic("g-coop", 6);
        List<Set<TopicPartition>> assigned = new ArrayList<>();
        List<Set<TopicPartition>> revoked = new ArrayList<>();
        List<Disposable> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            assigned.add(ConcurrentHashMap.newKeySet());
            revoked.add(ConcurrentHashMap.newKeySet());
        }
        try {
            for (int i = 0; i < 2; i++) {
                members.add(client.consumer(ConsumerConfig.defaults())
                        .subscribe(List.of("g-coop"), "coop", options("cooperative-sticky", assigned.get(i),
                                revoked.get(i)))
                        .receive().subscribe());
            }
            assertEvenAndDisjoint(assignments(awaitStable("coop", 2)), 6);
            await().atMost(WAIT).until(() -> assigned.get(0).size() == 3 && assigned.get(1).size() == 3);
            Set<TopicPartition> before0 = Set.copyOf(assigned.get(0));
            Set<TopicPartition> before1 = Set.copyOf(assigned.get(1));

            members.add(client.consumer(ConsumerConfig.defaults())
                    .subscribe(List.of("g-coop"), "coop", options("cooperative-sticky", assigned.get(2),
                            revoked.get(2)))
                    .receive().subscribe());
            assertEvenAndDisjoint(assignments(awaitStable("coop", 3)), 6);
            await().atMost(WAIT).until(() -> assigned.get(2).size() == 2);

            // exactly one partition moved from each old member; nothing else was revoked
            assertThat(revoked.get(0)).hasSize(1).isSubsetOf(before0);
            assertThat(revoked.get(1)).hasSize(1).isSubsetOf(before1);
            assertThat(assigned.get(2)).containsExactlyInAnyOrderElementsOf(union(revoked.get(0), revoked.get(1)));
            assertThat(revoked.get(2)).isEmpty();
        } finally {
            members.forEach(Disposable::dispose);
        }
    }

    /**
     * The application's code (and the SDK's acknowledgement, which takes the group session's monitor) runs with no
     * monitor of the SDK held: a partition reader once delivered under its own, and a rebalance that stopped it while
     * holding the session's deadlocked the consumer for good (seen in ReplicationFailoverIT's group).
     */
    @Test
    void recordsReachTheApplicationWithNoClientMonitorHeld() {
        rest.createTopic("no-locks", 2);
        JsonArray records = new JsonArray();
        for (int i = 0; i < 20; i++) {
            records.add(new JsonObject().put("value", "v" + i).put("partition", i % 2));
        }
        assertThat(rest.post("/api/topics/no-locks/records", new JsonObject().put("records", records)).status())
                .isEqualTo(200);
        Set<String> heldInGroup = ConcurrentHashMap.newKeySet();
        List<ConsumerRecord> grouped = client.consumer(ConsumerConfig.defaults()).subscribe(List.of("no-locks"),
                "no-locks").receive().doOnNext(r -> heldInGroup.addAll(clientMonitorsHeld())).take(20)
                .collectList().block(WAIT);
        assertThat(grouped).hasSize(20);
        assertThat(heldInGroup).as("SDK monitors held while a group member's record is delivered").isEmpty();

        Set<String> heldAssigned = ConcurrentHashMap.newKeySet();
        List<ConsumerRecord> assigned = client.consumer(ConsumerConfig.defaults())
                .assign(List.of(new TopicPartition("no-locks", 0), new TopicPartition("no-locks", 1)), Seek.earliest())
                .receive().doOnNext(r -> heldAssigned.addAll(clientMonitorsHeld())).take(20)
                .collectList().block(WAIT);
        assertThat(assigned).hasSize(20);
        assertThat(heldAssigned).as("SDK monitors held while an assigned partition's record is delivered").isEmpty();
    }

    /** Classes of the io.millrace.client objects whose monitors the current thread holds. */
    private static List<String> clientMonitorsHeld() {
        java.lang.management.ThreadInfo self = java.lang.management.ManagementFactory.getThreadMXBean()
                .getThreadInfo(new long[] {Thread.currentThread().getId()}, true, false)[0];
        return java.util.Arrays.stream(self.getLockedMonitors()).map(java.lang.management.MonitorInfo::getClassName)
                .filter(name -> name.startsWith("io.millrace.client.")).toList();
    }

    @Test
    void cancellingCommitsWhatWasDeliveredAndLeavesAtOnce() {
        rest.createTopic("c", 1); // a one-letter topic: the smallest commit elements on the wire
        JsonArray records = new JsonArray();
        for (int i = 0; i < 5; i++) {
            records.add(new JsonObject().put("value", "v" + i));
        }
        assertThat(rest.post("/api/topics/c/records", new JsonObject().put("records", records)).status())
                .isEqualTo(200);
        try (MillraceClient own = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.tcpPort()))) {
            List<ConsumerRecord> first = own.consumer(ConsumerConfig.defaults()).subscribe(List.of("c"), "cancel")
                    .receive().take(2).collectList().block(WAIT);
            assertThat(first).extracting(ConsumerRecord::offset).containsExactly(0L, 1L);
        }
        JsonObject group = describe("cancel");
        assertThat(group.getString("state")).isEqualTo("EMPTY");
        assertThat(group.getJsonArray("partitions").getJsonObject(0).getLong("committed")).isEqualTo(2);
        ConsumerRecord next = client.consumer(ConsumerConfig.defaults()).subscribe(List.of("c"), "cancel")
                .receive().next().block(WAIT);
        assertThat(next.offset()).isEqualTo(2);
    }

    @Test
    void aStaleGenerationsCommitIsRefused() throws Exception {
        rest.createTopic("g-fence", 2);
        try (TcpClient a = TcpClient.connect(broker.tcpPort()); TcpClient b = TcpClient.connect(broker.tcpPort())) {
            JoinGroupResponse first = a.ok(new JoinGroupRequest("fence", "", "a", 10_000, 10_000, "range",
                    List.of("g-fence")), JoinGroupResponse.class);
            int bJoin = b.send(new JoinGroupRequest("fence", "", "b", 10_000, 10_000, "range", List.of("g-fence")));
            await().atMost(WAIT).until(() -> a.error(new HeartbeatRequest("fence", first.memberId(),
                    first.generation())) == ErrorCode.REBALANCE_IN_PROGRESS);
            JoinGroupResponse second = a.ok(new JoinGroupRequest("fence", first.memberId(), "a", 10_000, 10_000,
                    "range", List.of("g-fence")), JoinGroupResponse.class);
            b.awaitResponse(bJoin, WAIT);
            assertThat(second.generation()).isGreaterThan(first.generation());

            CommitOffsetsRequest.PartitionOffset offset = new CommitOffsetsRequest.PartitionOffset("g-fence", 0, 1,
                    "");
            assertThat(a.error(new CommitOffsetsRequest("fence", first.memberId(), first.generation(),
                    List.of(offset)))).isEqualTo(ErrorCode.ILLEGAL_GENERATION);
            assertThat(a.call(new CommitOffsetsRequest("fence", second.memberId(), second.generation(),
                    List.of(offset))).error()).isEmpty();
        }
    }

    @Test
    void describeReportsLagAsHighWatermarkMinusCommittedOnEveryPartition() {
        rest.createTopic("g-lag", 3);
        for (int p = 0; p < 3; p++) {
            JsonArray records = new JsonArray();
            for (int i = 0; i < 10 * (p + 1); i++) {
                records.add(new JsonObject().put("value", "v").put("partition", p));
            }
            assertThat(rest.post("/api/topics/g-lag/records", new JsonObject().put("records", records)).status())
                    .isEqualTo(200);
        }
        JsonArray offsets = new JsonArray().add(new JsonObject().put("topic", "g-lag").put("partition", 0)
                        .put("offset", 3))
                .add(new JsonObject().put("topic", "g-lag").put("partition", 1).put("offset", 20))
                .add(new JsonObject().put("topic", "g-lag").put("partition", 2).put("offset", 0));
        Rest.Response reset = rest.post("/api/groups/lag/offsets", new JsonObject().put("offsets", offsets));
        assertThat(reset.status()).isEqualTo(200);

        JsonObject topic = rest.get("/api/topics/g-lag").json();
        JsonArray partitions = describe("lag").getJsonArray("partitions");
        assertThat(partitions).hasSize(3);
        long total = 0;
        for (Object o : partitions) {
            JsonObject p = (JsonObject) o;
            long hw = topic.getJsonArray("partitions").getJsonObject(p.getInteger("partition"))
                    .getLong("highWatermark");
            assertThat(p.getLong("highWatermark")).isEqualTo(hw);
            assertThat(p.getLong("lag")).isEqualTo(hw - p.getLong("committed"));
            total += p.getLong("lag");
        }
        assertThat(total).isEqualTo(7 + 0 + 30);
        assertThat(describe("lag").getLong("lag")).isEqualTo(total);
        assertThat(rest.get("/api/groups").array().stream().map(g -> ((JsonObject) g).getString("id")))
                .contains("lag");

        assertThat(rest.delete("/api/groups/lag").status()).isEqualTo(204);
        assertThat(rest.get("/api/groups/lag").status()).isEqualTo(404);
    }

    @Test
    void adminRefusesWhatWouldBreakALiveGroupAndProduceToTheOffsetsTopic() throws Exception {
        rest.createTopic("g-admin", 1);
        try (TcpClient a = TcpClient.connect(broker.tcpPort())) {
            a.ok(new JoinGroupRequest("admin", "", "a", 10_000, 10_000, "range", List.of("g-admin")),
                    JoinGroupResponse.class);
            Rest.Response reset = rest.post("/api/groups/admin/offsets", new JsonObject().put("topic", "g-admin")
                    .put("to", "latest"));
            assertThat(reset.status()).isEqualTo(409);
            assertThat(reset.errorCode()).isEqualTo("GROUP_NOT_EMPTY");
            assertThat(rest.delete("/api/groups/admin").status()).isEqualTo(409);
        }
        assertThat(rest.get("/api/groups/nobody").status()).isEqualTo(404);
        Rest.Response produce = rest.post("/api/topics/__consumer_offsets/records", new JsonObject()
                .put("records", new JsonArray().add(new JsonObject().put("value", "x"))));
        assertThat(produce.status()).isEqualTo(400);
    }

    @Test
    void aBrowserOnTheWebSocketAndAnSdkClientShareTheGroupsPartitions() {
        rest.createTopic("g-mixed", 4);
        for (int p = 0; p < 4; p++) {
            JsonArray records = new JsonArray();
            for (int i = 0; i < 10; i++) {
                records.add(new JsonObject().put("value", "p" + p + "-" + i).put("partition", p));
            }
            assertThat(rest.post("/api/topics/g-mixed/records", new JsonObject().put("records", records)).status())
                    .isEqualTo(200);
        }
        Set<TopicPartition> sdkAssigned = ConcurrentHashMap.newKeySet();
        Map<Integer, Set<Long>> sdkRead = new ConcurrentHashMap<>();
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            JsonObject joined = ws.call(new JsonObject().put("op", "joinGroup").put("group", "mixed")
                    .put("topics", new JsonArray().add("g-mixed")).put("strategy", "range")
                    .put("sessionTimeoutMs", 3000).put("rebalanceTimeoutMs", 5000));
            assertThat(joined.getString("op")).isEqualTo("result");
            String sid = joined.getString("subscription");
            assertThat(joined.getJsonArray("partitions")).hasSize(4);

            Disposable sdk = client.consumer(ConsumerConfig.defaults())
                    .subscribe(List.of("g-mixed"), "mixed", options("range", sdkAssigned, new ArrayList<>()))
                    .receive()
                    .subscribe(r -> sdkRead.computeIfAbsent(r.partition(), p -> ConcurrentHashMap.newKeySet())
                            .add(r.offset()));
            try {
                Map<String, Set<Integer>> shared = assignments(awaitStable("mixed", 2));
                assertEvenAndDisjoint(shared, 4);
                ws.await(m -> "revoked".equals(m.getString("op")), WAIT);
                JsonObject assigned = ws.await(m -> "assigned".equals(m.getString("op"))
                        && m.getJsonArray("partitions").size() == 2, WAIT);
                Set<Integer> browserPartitions = new HashSet<>();
                assigned.getJsonArray("partitions").forEach(p -> browserPartitions.add(
                        ((JsonObject) p).getInteger("partition")));
                await().atMost(WAIT).until(() -> sdkAssigned.size() == 2);
                Set<Integer> sdkPartitions = new HashSet<>();
                sdkAssigned.forEach(tp -> sdkPartitions.add(tp.partition()));
                assertThat(browserPartitions).doesNotContainAnyElementsOf(sdkPartitions);
                assertThat(union(browserPartitions, sdkPartitions)).containsExactlyInAnyOrder(0, 1, 2, 3);

                // the SDK reads its partitions from the start; the browser, granting credit only now, gets records
                // of its own partitions only
                ws.send(new JsonObject().put("op", "credit").put("subscription", sid).put("credits", 1000));
                await().atMost(WAIT).until(() -> sdkPartitions.stream().allMatch(p ->
                        sdkRead.getOrDefault(p, Set.of()).containsAll(List.of(0L, 9L))));
                Set<Integer> browserRead = new HashSet<>();
                await().atMost(WAIT).until(() -> {
                    JsonObject records = ws.await(m -> "records".equals(m.getString("op")), WAIT);
                    assertThat(records.getString("subscription")).isEqualTo(sid);
                    browserRead.add(records.getInteger("partition"));
                    return browserRead.equals(browserPartitions);
                });
                assertThat(ws.call(new JsonObject().put("op", "commit").put("group", "mixed")).getString("op"))
                        .isEqualTo("result");
            } finally {
                ws.close();
            }
            // closing the socket leaves the group: the SDK member takes every partition
            await().atMost(WAIT).until(() -> sdkAssigned.size() == 4);
            sdk.dispose();
        }
    }

    private static <T> Set<T> union(Set<T> a, Set<T> b) {
        Set<T> all = new HashSet<>(a);
        all.addAll(b);
        return all;
    }

    /** A {@link GroupMember} in its own JVM. */
    static final class MemberProcess {
        private final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private MemberProcess(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // the process died
                }
            }, "member-output");
            reader.setDaemon(true);
            reader.start();
        }

        static MemberProcess start(int tcpPort, String topic, String group, String strategy, int commitAfter) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            try {
                return new MemberProcess(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                        GroupMember.class.getName(), "127.0.0.1:" + tcpPort, topic, group, strategy,
                        Integer.toString(commitAfter)).redirectErrorStream(true).start());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String awaitLine(java.util.function.Predicate<String> match) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            List<String> seen = new ArrayList<>();
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null) {
                    seen.add(line);
                    if (match.test(line)) {
                        return line;
                    }
                }
            }
            throw new AssertionError("The member process did not print the expected line; it printed " + seen);
        }

        /** SIGKILL. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
