package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
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

/**
 * Runs one of web-dashboard/e2e's browser scripts against a {@link ClusterHarness} cluster: {@code node <script>
 * --base-urls <every broker's base URL> --out <dir> --chromium <path>}, and kills and restarts brokers when the script
 * asks on its standard output ({@code @@ kill <id>}, {@code @@ restart <id>}), answering on its standard input once
 * done ({@code killed <id>}, or {@code restarted <id>} once the broker is healthy and every broker sees all of them).
 *
 * <p>Chromium is Debian's /usr/bin/chromium or {@code $CHROMIUM}; a test using this fails without it, saying how to
 * install it (bin/run-tests installs it). Not thread-safe: one test thread runs one script at a time.
 */
final class BrowserScript {

    static final Path HOME = Path.of(System.getProperty("millrace.home", ".")).toAbsolutePath();
    static final String CHROMIUM = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");

    private BrowserScript() {
    }

    /** Fails unless Chromium is installed; call before starting a cluster. */
    static void assumeChromium() {
        assertThat(Path.of(CHROMIUM)).as("Chromium for the browser test: apt-get update && apt-get install -y"
                + " chromium (bin/run-tests does this), or set CHROMIUM to another binary").isExecutable();
    }

    /**
     * Runs {@code script} (relative to web-dashboard/) against {@code cluster} with {@code out} as its output folder,
     * within {@code timeoutSeconds}; writes its output to {@code log}, prints it, and returns it. Fails if the script
     * does not end in time or exits with another status than 0.
     */
    static String run(ClusterHarness cluster, String script, Path out, Path log, long timeoutSeconds)
            throws IOException, InterruptedException {
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>(List.of("node", script, "--base-urls",
                String.join(",", cluster.baseUrls()), "--out", out.toString(), "--chromium", CHROMIUM));
        Process node = new ProcessBuilder(command).directory(HOME.resolve("web-dashboard").toFile())
                .redirectErrorStream(true).start();
        StringBuffer output = new StringBuffer();
        CompletableFuture<Void> driven = CompletableFuture.runAsync(() -> drive(cluster, node, output));
        try {
            driven.get(timeoutSeconds, TimeUnit.SECONDS);
            assertThat(node.waitFor(30, TimeUnit.SECONDS)).as("the browser test ends after its last line").isTrue();
        } catch (TimeoutException e) {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("The browser test did not finish within " + timeoutSeconds + " s; output:\n"
                    + output);
        } catch (ExecutionException e) {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("Driving the browser test failed; output:\n" + output, e.getCause());
        } finally {
            Files.writeString(log, output.toString());
        }
        System.out.println(output);
        assertThat(node.exitValue()).as("browser test (log %s, output %s):%n%s", log, out, output).isZero();
        return output.toString();
    }

    /** Copies the script's output and carries out its requests until it ends. */
    private static void drive(ClusterHarness cluster, Process node, StringBuffer output) {
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
                        cluster.awaitLiveBrokers(cluster.size());
                        answers.write("restarted " + id + "\n");
                    }
                    default -> throw new IllegalStateException("Unknown request from the browser test: " + line);
                }
                answers.flush();
                output.append("[test] done: ").append(line).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
