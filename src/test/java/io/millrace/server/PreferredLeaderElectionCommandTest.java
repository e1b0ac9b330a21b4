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

/** {@code millrace preferred-leader-election} against a fake broker's REST API. */
class PreferredLeaderElectionCommandTest {

    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void printsHowManyPartitionsMoved() throws IOException {
        broker(200, "{\"partitionsMoved\":3}");

        int exit = run("--url", url());

        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString()).isEqualTo("3 partitions moved to the preferred leader" + System.lineSeparator());
        assertThat(requests).containsExactly("POST /api/cluster/preferred-leader-election");
    }

    @Test
    void errorsArePrintedAsTheirCodeWithExitCodeOne() throws IOException {
        broker(503, "{\"error\":{\"code\":\"NOT_LEADER\",\"message\":\"No controller is elected yet; retry in a"
                + " moment\",\"retriable\":true}}");

        assertThat(run("--url", url() + "/")).isEqualTo(1);
        assertThat(err.toString()).contains("NOT_LEADER", "No controller is elected yet");
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
    private void broker(int status, String body) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/cluster/preferred-leader-election", exchange -> {
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            answer(exchange, exchange.getRequestMethod().equals("POST") ? status : 404, body);
        });
        server.start();
    }

    private String url() {
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
