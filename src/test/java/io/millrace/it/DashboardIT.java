package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard end to end in real headless Chromium: runs web-dashboard/e2e/dashboard.e2e.mjs (playwright-core
 * driving Debian's /usr/bin/chromium) against a broker started the way the README starts one. Screenshots land in
 * target/e2e/. With {@code -Ddashboard.screenshot=docs} the run also refreshes docs/dashboard.png, the README's picture.
 *
 * <p>Never skipped: without Chromium this fails and says how to install it (bin/run-tests installs it).
 */
class DashboardIT {

    private static final Path HOME = Path.of(System.getProperty("millrace.home", ".")).toAbsolutePath();
    private static final String CHROMIUM = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    private static final long TIMEOUT_SECONDS = 180;

    static BrokerProcess broker;

    @BeforeAll
    static void start() {
        assertThat(Path.of(CHROMIUM)).as("Chromium for the dashboard test: apt-get update && apt-get install -y"
                + " chromium (bin/run-tests does this), or set CHROMIUM to another binary").isExecutable();
        broker = BrokerProcess.start("dashboard", Map.of());
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void theDashboardWorksInABrowser() throws IOException, InterruptedException {
        Path out = HOME.resolve("target/e2e");
        Path log = HOME.resolve("target/it-logs/dashboard-e2e.log");
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>(List.of("node", "e2e/dashboard.e2e.mjs", "--base-url", broker.baseUrl(),
                "--out", out.toString(), "--chromium", CHROMIUM, "--bootstrap", "127.0.0.1:" + broker.tcpPort(),
                "--millrace", HOME.resolve("bin/millrace").toString()));
        if ("docs".equals(System.getProperty("dashboard.screenshot"))) {
            command.addAll(List.of("--docs-screenshot", HOME.resolve("docs/dashboard.png").toString()));
        }
        Process node = new ProcessBuilder(command).directory(HOME.resolve("web-dashboard").toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!node.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("The browser test did not finish within " + TIMEOUT_SECONDS + " s; log:\n"
                    + Files.readString(log));
        }
        String output = Files.readString(log);
        System.out.println(output);
        assertThat(node.exitValue()).as("browser test (log %s, screenshots %s):%n%s", log, out, output).isZero();
        assertThat(out.resolve("desktop-topic.png")).exists();
        assertThat(out.resolve("phone-topic.png")).exists();
    }
}
