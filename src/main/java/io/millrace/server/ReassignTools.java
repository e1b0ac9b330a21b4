package io.millrace.server;

import io.millrace.common.MillraceException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The tools that grow and shrink a cluster, over the REST API of any broker (every broker stores moves; the controller
 * carries them out): {@code reassign}, {@code rebalance} and {@code decommission}. Plans are the JSON of
 * {@code GET /api/cluster/rebalance-plan}, so a generated plan can be saved, reviewed, edited and executed.
 */
final class ReassignTools {

    private ReassignTools() {
    }

    /** What every tool here shares: the broker's address, the HTTP client, waiting for moves to finish. */
    abstract static class RestTool implements Callable<Integer> {
        @Mixin
        ConsoleTools.RestOptions rest;
        @Option(names = "--wait", description = "After starting the moves, wait until every reassignment is done, "
                + "printing progress.")
        boolean waitForMoves;
        @Option(names = "--poll-ms", defaultValue = "1000", description = "How often --wait looks. Default: "
                + "${DEFAULT-VALUE}.")
        long pollMs;
        @Spec
        CommandSpec spec;

        private HttpClient http;
        private URI broker;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            http = rest.http();
            broker = rest.broker();
            try {
                int code = run(out, err);
                if (code == 0 && waitForMoves) {
                    awaitMoves(out);
                }
                return code;
            } catch (MillraceException e) {
                err.println("millrace: " + e.errorCode().name() + ": " + e.getMessage());
                return 1;
            } catch (IOException e) {
                err.println("millrace: cannot reach " + broker + ": " + e);
                return 1;
            } finally {
                out.flush();
                err.flush();
            }
        }

        abstract int run(PrintWriter out, PrintWriter err) throws IOException, InterruptedException;

        JsonObject get(String path) throws IOException, InterruptedException {
            return new JsonObject(ConsoleTools.send(http, request(path).GET().build()));
        }

        JsonObject post(String path, JsonObject body) throws IOException, InterruptedException {
            return new JsonObject(ConsoleTools.send(http, request(path).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build()));
        }

        JsonObject delete(String path) throws IOException, InterruptedException {
            return new JsonObject(ConsoleTools.send(http, request(path).DELETE().build()));
        }

        private HttpRequest.Builder request(String path) {
            return HttpRequest.newBuilder(broker.resolve(path)).timeout(Duration.ofMillis(rest.timeoutMs));
        }

        /** Starts a plan's moves and prints each. */
        void execute(JsonObject plan, PrintWriter out) throws IOException, InterruptedException {
            JsonArray started = printStarted(post("/api/reassignments", plan), out);
            out.println(started.size() + (started.size() == 1 ? " reassignment" : " reassignments") + " started");
        }

        /** Prints the moves a broker answered it started; returns them. */
        static JsonArray printStarted(JsonObject answer, PrintWriter out) {
            JsonArray started = answer.getJsonArray("partitions");
            started.forEach(o -> {
                JsonObject m = (JsonObject) o;
                out.println("moving " + m.getString("topic") + "-" + m.getInteger("partition") + " to "
                        + m.getJsonArray("replicas").encode());
            });
            return started;
        }

        /** Prints the moves in progress; returns how many there are. */
        int printProgress(PrintWriter out) throws IOException, InterruptedException {
            JsonArray moves = get("/api/reassignments").getJsonArray("reassignments");
            for (Object o : moves) {
                JsonObject m = (JsonObject) o;
                out.println(m.getString("topic") + "-" + m.getInteger("partition") + "\t" + m.getString("phase")
                        + "\treplicas " + m.getJsonArray("replicas").encode() + " -> "
                        + m.getJsonArray("target").encode() + "\tin sync " + m.getJsonArray("isr").encode()
                        + "\tleader " + m.getInteger("leader"));
            }
            out.flush();
            return moves.size();
        }

        private void awaitMoves(PrintWriter out) throws IOException, InterruptedException {
            while (true) {
                int left = get("/api/reassignments").getJsonArray("reassignments").size();
                if (left == 0) {
                    out.println("every reassignment is done");
                    return;
                }
                out.println(left + " still moving");
                out.flush();
                Thread.sleep(pollMs);
            }
        }
    }

    @Command(name = "reassign", mixinStandardHelpOptions = true,
            description = "Move partitions to other brokers online: start a plan (JSON {\"partitions\": [{\"topic\", "
                    + "\"partition\", \"replicas\": [ids]}]}), show the moves in progress, or cancel them.")
    static final class Reassign extends RestTool {
        @Option(names = "--plan", paramLabel = "FILE", description = "Start the moves of this plan ('-': stdin).")
        String plan;
        @Option(names = "--status", description = "Show every move in progress (the default without --plan).")
        boolean status;
        @Option(names = "--cancel", description = "Cancel moves, sending the partitions back where they were: all of "
                + "them, or the one --topic and --partition name.")
        boolean cancel;
        @Option(names = {"-t", "--topic"}, description = "With --cancel: the topic of the move to cancel.")
        String topic;
        @Option(names = {"-p", "--partition"}, description = "With --cancel: the partition of the move to cancel.")
        Integer partition;

        @Override
        int run(PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
            if (cancel) {
                if ((topic == null) != (partition == null)) {
                    err.println("millrace: --cancel takes both --topic and --partition, or neither (all moves)");
                    return 2;
                }
                int n = delete(topic == null ? "/api/reassignments"
                        : "/api/reassignments/" + topic + "/" + partition).getInteger("cancelled");
                out.println(n + (n == 1 ? " reassignment" : " reassignments") + " cancelled");
                return 0;
            }
            if (plan != null) {
                String text = plan.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                        : Files.readString(Path.of(plan));
                execute(new JsonObject(text), out);
                return 0;
            }
            if (printProgress(out) == 0) {
                out.println("no reassignment in progress");
            }
            return 0;
        }
    }

    @Command(name = "rebalance", mixinStandardHelpOptions = true,
            description = "Print a plan that spreads every partition's replicas, then preferred leaders, evenly over "
                    + "the live brokers, moving as few replicas as it can; --execute starts it. Save the plan, review "
                    + "it, and start it later with 'reassign --plan FILE'.")
    static final class Rebalance extends RestTool {
        @Option(names = "--execute", description = "Start the plan's moves instead of only printing it.")
        boolean execute;

        @Override
        int run(PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
            JsonObject plan = get("/api/cluster/rebalance-plan");
            if (!execute) {
                out.println(plan.encodePrettily());
                return 0;
            }
            execute(plan, out);
            return 0;
        }
    }

    @Command(name = "decommission", mixinStandardHelpOptions = true,
            description = "Move every replica off a broker, onto the least loaded other live brokers, so that it can "
                    + "be stopped for good; --dry-run only prints the plan.")
    static final class Decommission extends RestTool {
        @Option(names = "--broker", required = true, description = "The broker to empty.")
        int brokerId;
        @Option(names = "--dry-run", description = "Print the plan without starting it.")
        boolean dryRun;

        @Override
        int run(PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
            if (dryRun) {
                out.println(get("/api/brokers/" + brokerId + "/decommission-plan").encodePrettily());
                return 0;
            }
            JsonArray started = printStarted(post("/api/brokers/" + brokerId + "/decommission", new JsonObject()), out);
            out.println(started.size() + " partitions moving off broker " + brokerId);
            return 0;
        }
    }
}
