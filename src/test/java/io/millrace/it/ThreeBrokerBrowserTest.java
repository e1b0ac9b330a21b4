package io.millrace.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the browser tests against a cluster share: a three-broker {@link ClusterHarness} for the class, started once
 * Chromium is known to be there (else the test fails and says how to install it), and closed after it. Subclasses run
 * their script with {@link #runScript}.
 */
abstract class ThreeBrokerBrowserTest {

    /**
     * Bytes per second a broker copies into replicas that a reassignment adds to it: low, so that moving a partition of
     * a MiB takes seconds and a page can be seen following it. It bounds nothing else (followers in sync, or catching
     * up after a restart, copy at full speed), so scripts that move no partition run as they would without it.
     */
    static final long THROTTLED_BYTES_PER_SECOND = 128 * 1024;

    static ClusterHarness cluster;

    @BeforeAll
    static void startCluster() {
        BrowserScript.assumeChromium();
        cluster = ClusterHarness.start(3,
                Map.of("replication.throttled.rate", Long.toString(THROTTLED_BYTES_PER_SECOND)));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }

    /** What a script printed, and the folder of its screenshots and files. */
    record ScriptRun(String output, Path out) {
    }

    /**
     * Runs {@code web-dashboard/e2e/<name>.e2e.mjs} against the cluster, its files going to {@code target/e2e/<outDir>}
     * and its output to {@code target/it-logs/<name>-e2e.log}.
     */
    static ScriptRun runScript(String name, String outDir, long timeoutSeconds)
            throws IOException, InterruptedException {
        Path out = BrowserScript.HOME.resolve("target/e2e/" + outDir);
        String output = BrowserScript.run(cluster, "e2e/" + name + ".e2e.mjs", out,
                BrowserScript.HOME.resolve("target/it-logs/" + name + "-e2e.log"), timeoutSeconds);
        return new ScriptRun(output, out);
    }
}
