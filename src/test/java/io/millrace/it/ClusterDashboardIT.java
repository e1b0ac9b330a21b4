package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard against a three-broker cluster in real headless Chromium: runs
 * web-dashboard/e2e/cluster-dashboard.e2e.mjs (playwright-core driving Debian's /usr/bin/chromium) against a
 * {@link ClusterHarness} cluster, and kills and restarts brokers when the script asks on its standard output
 * ({@code @@ kill <id>}, {@code @@ restart <id>}), answering on its standard input once done. The script checks that
 * a SIGKILLed broker shows as down and the RF=3 topic's partitions as under-replicated within 5 s, that the screen
 * heals after the broker returns, that the page moves to another broker when its own dies, and that the browser logs
 * no console error. Screenshots land in target/e2e/cluster/.
 *
 * <p>Never skipped: without Chromium this fails and says how to install it (bin/run-tests installs it).
 */
class ClusterDashboardIT {

    private static final Path HOME = Path.of(System.getProperty("millrace.home", ".")).toAbsolutePath();
    private static final String CHROMIUM = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    private static final long TIMEOUT_SECONDS = 300;

    static ClusterHarness cluster;

    @BeforeAll
    static void start() {
        assertThat(Path.of(CHROMIUM)).as("Chromium for the dashboard test: apt-get update && apt-get install -y"
                + " chromium (bin/run-tests does this), or set CHROMIUM to another binary").isExecutable();
        cluster = ClusterHarness.start(3);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theClusterScreenFollowsAKilledBrokerAndItsReturn() throws Exception {
        Path out = HOME.resolve("target/e2e/cluster");
        Path log = HOME.resolve("target/it-logs/cluster-dashboard-e2e.log");
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>(List.of("node", "e2e/cluster-dashboard.e2e.mjs", "--base-urls",
                String.join(",", cluster.baseUrls()), "--out", out.toString(), "--chromium", CHROMIUM));
        Process node = new ProcessBuilder(command).directory(HOME.resolve("web-dashboard").toFile())
                .redirectErrorStream(true).start();
        StringBuffer output = new StringBuffer();
        CompletableFuture<Void> driven = CompletableFuture.runAsync(() -> drive(node, output));
        try {
            driven.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(node.waitFor(30, TimeUnit.SECONDS)).as("the browser test ends after its last line").isTrue();
        } catch (TimeoutException e) {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("The browser test did not finish within " + TIMEOUT_SECONDS + " s; output:\n"
                    + output);
        } catch (ExecutionException e) {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("Driving the browser test failed; output:\n" + output, e.getCause());
        } finally {
            Files.writeString(log, output.toString());
        }
        System.out.println(output);
        assertThat(node.exitValue()).as("browser test (log %s, screenshots %s):%n%s", log, out, output).isZero();
        assertThat(output).contains("partitions under-replicated").contains("passed");
        assertThat(out.resolve("cluster-broker-down.png")).exists();
        assertThat(out.resolve("cluster-healed.png")).exists();
    }

    /** Copies the script's output and carries out its requests until it ends. */
    private static void drive(Process node, StringBuffer output) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(),
                StandardCharsets.UTF_8));
             Writer answers = new OutputStreamWriter(node.getOutputStream(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = lines.readLine()) != null) {
                output.append(line).append('\n');
                if (!line.startsWith("@@ ")) {
                    continue;
                }
                String[] request = line.substring(3).trim().split(" ");
                int id = Integer.parseInt(request[1]);
                switch (request[0]) {
                    case "kill" -> {
                        cluster.kill(id);
                        answers.write("killed " + id + "\n");
                    }
                    case "restart" -> {
                        cluster.restart(id);
                        cluster.awaitLiveBrokers(3);
                        answers.write("restarted " + id + "\n");
                    }
                    default -> throw new IllegalStateException("Unknown request from the browser test: " + line);
                }
                answers.flush();
                output.append("[test] done: ").append(line).append('\n');
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
