package io.millrace.loadtests.broker;

import io.millrace.loadtests.broker.LoadClient.TopicSettings;
import java.nio.file.Path;
import java.util.List;

/**
 * The scenarios that each start a Millrace cluster of their own, in every run, whatever {@code --brokers} says (so
 * that one run's figures owe nothing to what an earlier scenario left behind): three brokers as
 * {@link MillraceCluster} starts them, topics of replication factor 3 and {@code min.insync.replicas} 2.
 * <ul>
 *   <li>{@code ws-fanout-cluster}: the WebSocket fan-out of {@link FanOut} with its {@code --ws-subscribers}
 *       spread round robin over the three brokers, on a one-partition topic that one of them leads; delivery
 *       latency overall and for the subscribers of the leader and of the followers, and each broker's CPU and RSS;
 *   <li>{@code reassign-1gib}: {@link PartitionMove}, a fourth broker added and a filled partition moved onto it
 *       under a steady producer.
 * </ul>
 * Millrace only: Kafka has no WebSocket gateway, and its reassignment is not what issue 13 measures.
 */
final class OwnClusters {

    static final String FAN_OUT = "ws-fanout-cluster";
    static final List<String> SCENARIOS = List.of(FAN_OUT, PartitionMove.SCENARIO);
    /** Brokers of each scenario's cluster (before reassign-1gib adds its fourth). */
    static final int BROKERS = 3;
    private static final TopicSettings TOPICS = new TopicSettings(3, 2);

    private OwnClusters() {
    }

    /** Runs the chosen ones among {@link #SCENARIOS}, each on a fresh cluster stopped by PID after it. */
    static void runChosen(LoadTest.Options o, Scenarios scenarios, int run, String system, String stamp,
                          Path dataRoot, Path logs, List<ScenarioResult> results) {
        if (!system.equals("millrace")) {
            return;
        }
        for (String name : SCENARIOS) {
            if (!o.scenarios().contains(name)) {
                continue;
            }
            boolean fanOut = name.equals(FAN_OUT);
            String opts = fanOut ? (o.millraceJavaOpts() + " " + o.fanoutJavaOpts()).trim() : o.millraceJavaOpts();
            Path log = logs.resolve("millrace-" + name + "-run" + run + ".log");
            System.out.printf("== run %d/%d: millrace, %s on %d brokers of its own, MILLRACE_JAVA_OPTS='%s' "
                    + "(logs %s-*)%n", run, o.runs(), name, BROKERS, opts, log);
            try (MillraceCluster cluster = new MillraceCluster(o.home(), dataRoot.resolve(name + "-" + stamp + "-"
                    + run), log, opts, BROKERS, TOPICS)) {
                cluster.start();
                try (MillraceLoadClient client = cluster.client()) {
                    ScenarioResult r = LoadTest.underBackgroundLoad(o, () -> fanOut
                            ? fanOut(o, cluster, client, run)
                            : new PartitionMove(o, scenarios).run(cluster, client, run));
                    r.notes.put("broker_java_opts", opts.isEmpty() ? "(none)" : opts);
                    results.add(r);
                    System.out.println("   " + Report.oneLine(r));
                }
            } catch (Exception e) {
                LoadTest.failed("millrace", run, e, results);
            }
        }
    }

    /**
     * The fan-out once the topic's replicas are all in sync, so that the leader is settled; subscriber j connects to
     * broker j mod 3.
     */
    private static ScenarioResult fanOut(LoadTest.Options o, MillraceCluster cluster, LoadClient client, int run)
            throws Exception {
        client.createTopic(FAN_OUT, 1);
        Scenarios.awaitFullIsr(client, FAN_OUT, BROKERS, 60_000);
        int leader = client.describe(FAN_OUT, 0).leader().orElseThrow();
        List<FanOut.Endpoint> endpoints = cluster.brokerIds().stream().map(id -> new FanOut.Endpoint(
                Integer.toString(id), cluster.httpPort(id), cluster.process(id), id == leader ? "leader" : "follower"))
                .toList();
        ScenarioResult r = new FanOut(o).run(cluster, endpoints, client, run, FAN_OUT, FAN_OUT, o.wsSubscribers(),
                o.wsRate());
        r.metric("leader_broker", leader);
        int leaderAfter = client.describe(FAN_OUT, 0).leader().orElse(-1);
        if (leaderAfter != leader) {
            r.notes.put("leader_moved", leader + " -> " + leaderAfter);
        }
        return r;
    }
}
