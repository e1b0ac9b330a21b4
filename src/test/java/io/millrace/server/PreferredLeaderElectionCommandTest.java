package io.millrace.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code millrace preferred-leader-election} against two fake brokers' REST APIs: broker 1 is not the controller
 * (it answers NOT_LEADER, as BrokerService does), broker 2 is.
 */
class PreferredLeaderElectionCommandTest {

    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    @Test
    void aBrokerThatIsNotTheControllerLeadsTheCommandToTheController() throws IOException {
        HttpServer controller = broker(2, 200, "{\"partitionsMoved\":3}");
        HttpServer other = broker(1, 503, "{\"error\":{\"code\":\"NOT_LEADER\",\"message\":\"Broker 1 is not the "
                + "controller; broker 2 is: ask it\",\"retriable\":true}}");
        brokers(other, "[" + describe(1, other, false) + "," + describe(2, controller, true) + "]");

        int exit = run("--url", url(other));

        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString()).isEqualTo("3 partitions moved to the preferred leader" + System.lineSeparator());
        assertThat(requests).containsExactly("1 POST /api/cluster/preferred-leader-election", "1 GET /api/brokers",
                "2 POST /api/cluster/preferred-leader-election");
    }

    @Test
    void errorsArePrintedAsTheirCodeWithExitCodeOne() throws IOException {
        HttpServer other = broker(1, 503, "{\"error\":{\"code\":\"NOT_LEADER\",\"message\":\"Broker 1 is not the "
                + "controller\",\"retriable\":true}}");
        brokers(other, "[" + describe(1, other, false) + "]"); // no controller right now

        assertThat(run("--url", url(other) + "/")).isEqualTo(1);
        assertThat(err.toString()).contains("NOT_LEADER", "knows of none");
        assertThat(out.toString()).isEmpty();
    }

    private int run(String... args) {
        CommandLine command = new CommandLine(new Main());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "preferred-leader-election";
        System.arraycopy(args, 0, all, 1, args.length);
        return command.execute(all);
    }

    /** A fake broker whose election endpoint answers {@code status} and {@code body}. */
    private HttpServer broker(int id, int status, String body) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/cluster/preferred-leader-election", exchange -> {
            requests.add(id + " " + exchange.getRequestMethod() + " " + exchange.getRequestURI());
            answer(exchange, exchange.getRequestMethod().equals("POST") ? status : 404, body);
        });
        server.start();
        servers.add(server);
        return server;
    }

    /** Makes {@code server} (broker 1) answer {@code GET /api/brokers} with {@code list}. */
    private void brokers(HttpServer server, String list) {
        server.createContext("/api/brokers", exchange -> {
            requests.add("1 " + exchange.getRequestMethod() + " " + exchange.getRequestURI());
            answer(exchange, 200, list);
        });
    }

    private static String describe(int id, HttpServer server, boolean controller) {
        return "{\"id\":" + id + ",\"host\":\"127.0.0.1\",\"httpPort\":" + server.getAddress().getPort()
                + ",\"tcpPort\":7070,\"alive\":true,\"controller\":" + controller + "}";
    }

    private static String url(HttpServer server) {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("content-type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
