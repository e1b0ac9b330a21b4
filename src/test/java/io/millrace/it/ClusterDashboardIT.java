package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The dashboard against a three-broker cluster in real headless Chromium: runs
 * web-dashboard/e2e/cluster-dashboard.e2e.mjs (playwright-core driving Debian's /usr/bin/chromium) against a
 * {@link ClusterHarness} cluster, killing and restarting brokers when the script asks ({@link BrowserScript}). The
 * script checks that a SIGKILLed broker shows as down and the RF=3 topic's partitions as under-replicated within 5 s,
 * that the screen heals after the broker returns, that the page moves to another broker when its own dies, and that
 * the browser logs no console error. Screenshots land in target/e2e/cluster/. A second script,
 * web-dashboard/e2e/reassign-dashboard.e2e.mjs, plans and applies a rebalance from the cluster screen, watches the
 * moves in its Reassignments panel until they finish, and cancels one with its button (screenshots in
 * target/e2e/reassign/). Each script leaves the cluster with three brokers up and no move running.
 *
 * <p>Never skipped: without Chromium this fails and says how to install it (bin/run-tests installs it).
 */
class ClusterDashboardIT extends ThreeBrokerBrowserTest {

    @Test
    void theClusterScreenFollowsAKilledBrokerAndItsReturn() throws Exception {
        ScriptRun run = runScript("cluster-dashboard", "cluster", 300);
        assertThat(run.output()).contains("partitions under-replicated").contains("passed");
        assertThat(run.out().resolve("cluster-broker-down.png")).exists();
        assertThat(run.out().resolve("cluster-healed.png")).exists();
    }

    @Test
    void theClusterScreenStartsFollowsAndCancelsReassignments() throws Exception {
        ScriptRun run = runScript("reassign-dashboard", "reassign", 420);
        assertThat(run.output()).contains("the panel shows no reassignment running")
                .contains("was cancelled from the panel").contains("passed");
        assertThat(run.out().resolve("reassignment-running.png")).exists();
        assertThat(run.out().resolve("reassignment-finished.png")).exists();
    }
}
