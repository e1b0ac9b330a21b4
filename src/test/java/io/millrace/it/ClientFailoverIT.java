package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The browser client module through the death of its own broker (issue 13, "Done when" 2), in real headless Chromium:
 * runs web-dashboard/e2e/client-failover.e2e.mjs against a three-broker {@link ClusterHarness} cluster (one ZooKeeper
 * that outlives the brokers), which SIGKILLs a broker when the script asks ({@link BrowserScript}).
 *
 * <p>A page served by broker B imports B's {@code /millrace-client.js}, subscribes to every partition of an RF=3 topic
 * from the earliest offset and produces through the client with acks=all, recording every acknowledged record (the
 * oracle), every failed attempt and every delivery. B (not the controller; it leads two of the six partitions) is
 * SIGKILLed: the client reconnects to another broker by itself and resumes, and producing goes on, a failed batch
 * sent again until acknowledged. The script then checks that every acknowledged record was delivered at its offset,
 * that each partition's deliveries are dense and in offset order, that values delivered twice are only of attempts
 * that failed after the kill (a bounded number), and that the browser logged no error but the refused connections
 * to B. The page's record of all that lands in target/e2e/client-failover/page-state.json.
 */
class ClientFailoverIT extends ThreeBrokerBrowserTest {

    @Test
    void theClientModuleMovesToAnotherBrokerWhenItsOwnDiesAndLosesNothing() throws Exception {
        ScriptRun run = runScript("client-failover", "client-failover", 300);
        assertThat(run.output()).contains("the client is open on").contains("acknowledged records were delivered")
                .contains("passed");
        assertThat(run.out().resolve("page-state.json")).exists();
    }
}
