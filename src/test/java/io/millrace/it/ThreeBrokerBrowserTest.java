package io.millrace.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the browser tests against a cluster share: a three-broker {@link ClusterHarness} for the class, started once
 * Chromium is known to be there (else the test fails and says how to install it), and closed after it. Subclasses run
 * their script with {@link BrowserScript#run}.
 */
abstract class ThreeBrokerBrowserTest {

    static ClusterHarness cluster;

    @BeforeAll
    static void startCluster() {
        BrowserScript.assumeChromium();
        cluster = ClusterHarness.start(3);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }
}
