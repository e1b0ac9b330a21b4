package io.millrace.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code millrace reassign}, {@code rebalance} and {@code decommission} against a fake broker's REST API. */
class ReassignToolsTest {

    private static final String PLAN = "{\"version\":1,\"partitions\":[{\"topic\":\"t\",\"partition\":0,"
            + "\"replicas\":[4,2]}]}";

    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    /** Answers by "METHOD path": status and body. */
    private final Map<String, Object[]> answers = new ConcurrentHashMap<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String key = exchange.getRequestMethod() + " " + exchange.getRequestURI();
            requests.add(key + (body.isEmpty() ? "" : " " + body));
            Object[] answer = answers.getOrDefault(key, new Object[] {404,
                    "{\"error\":{\"code\":\"INVALID_REQUEST\",\"message\":\"no such endpoint\",\"retriable\":false}}"});
            byte[] bytes = ((String) answer[1]).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders((int) answer[0], bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aPlanFileIsPostedAndEachMoveStartedIsPrinted() throws IOException {
        answers.put("POST /api/reassignments", new Object[] {200, PLAN});
        Path plan = Files.writeString(dir.resolve("plan.json"), PLAN);

        assertThat(run("reassign", "--plan", plan.toString())).as(err.toString()).isZero();

        assertThat(requests).hasSize(1);
        assertThat(new JsonObject(requests.get(0).substring("POST /api/reassignments ".length())))
                .isEqualTo(new JsonObject(PLAN));
        assertThat(out.toString()).contains("moving t-0 to [4,2]", "1 reassignment started");
    }

    @Test
    void statusPrintsEachMoveAndCancelNamesOnePartitionOrAll() {
        answers.put("GET /api/reassignments", new Object[] {200, "{\"reassignments\":[{\"topic\":\"t\",\"partition\":0,"
                + "\"original\":[1,2],\"target\":[4,2],\"replicas\":[4,2,1],\"isr\":[2,1],\"leader\":1,"
                + "\"phase\":\"CATCH_UP\",\"adding\":[4],\"removing\":[1]}]}"});
        answers.put("DELETE /api/reassignments/t/0", new Object[] {200, "{\"cancelled\":1}"});
        answers.put("DELETE /api/reassignments", new Object[] {200, "{\"cancelled\":0}"});

        assertThat(run("reassign")).isZero();
        assertThat(out.toString()).contains("t-0\tCATCH_UP\treplicas [4,2,1] -> [4,2]\tin sync [2,1]\tleader 1");
        assertThat(run("reassign", "--cancel", "--topic", "t", "--partition", "0")).isZero();
        assertThat(run("reassign", "--cancel")).isZero();
        assertThat(out.toString()).contains("1 reassignment cancelled", "0 reassignments cancelled");
        assertThat(run("reassign", "--cancel", "--topic", "t")).as("a topic without its partition").isEqualTo(2);
        assertThat(requests).containsExactly("GET /api/reassignments", "DELETE /api/reassignments/t/0",
                "DELETE /api/reassignments");
    }

    @Test
    void rebalancePrintsThePlanAndExecutesItOnlyWhenAsked() {
        answers.put("GET /api/cluster/rebalance-plan", new Object[] {200, PLAN});
        answers.put("POST /api/reassignments", new Object[] {200, PLAN});

        assertThat(run("rebalance")).isZero();
        assertThat(new JsonObject(out.toString())).isEqualTo(new JsonObject(PLAN));
        assertThat(requests).containsExactly("GET /api/cluster/rebalance-plan");

        assertThat(run("rebalance", "--execute")).isZero();
        assertThat(requests).hasSize(3);
        assertThat(requests.get(2)).startsWith("POST /api/reassignments ");
    }

    @Test
    void decommissionStartsTheMovesOffTheBrokerAndReportsRefusals() {
        answers.put("POST /api/brokers/3/decommission", new Object[] {200, PLAN});
        answers.put("POST /api/brokers/2/decommission", new Object[] {400, "{\"error\":{\"code\":"
                + "\"INVALID_REPLICA_ASSIGNMENT\",\"message\":\"t-0 has replicas [1, 2, 3]: no other live broker is "
                + "left\",\"retriable\":false}}"});

        assertThat(run("decommission", "--broker", "3")).isZero();
        assertThat(out.toString()).contains("moving t-0 to [4,2]", "1 partitions moving off broker 3");
        assertThat(run("decommission", "--broker", "2")).isEqualTo(1);
        assertThat(err.toString()).contains("INVALID_REPLICA_ASSIGNMENT", "no other live broker");
    }

    private int run(String... args) {
        CommandLine command = new CommandLine(new Main());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--url";
        all[args.length + 1] = "http://127.0.0.1:" + server.getAddress().getPort();
        return command.execute(all);
    }
}
