package io.millrace.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code millrace zookeeper}: a stand-alone, single-node ZooKeeper server from the broker's own jar, so that a
 * development cluster (see {@code bin/local-cluster}) needs nothing but this jar. It runs until SIGTERM or Ctrl-C and
 * prints one line when it accepts clients: {@code Millrace ZooKeeper ready at HOST:PORT (...)}.
 *
 * <p>The tick is shorter than ZooKeeper's usual 2 s because ZooKeeper grants a session timeout no shorter than 2
 * ticks (and here no longer than {@link EmbeddedZooKeeper#MAX_SESSION_TIMEOUT_MS}), and checks for expired sessions
 * once a tick: a 500 ms tick lets brokers ask for a session of 1 to 3 s, so a killed broker is noticed within
 * seconds. The cost is a server that wakes up more often, negligible for a handful of brokers. A production cluster
 * runs a real ZooKeeper ensemble of 3 or 5 nodes instead (see docs/OPERATIONS.md).
 */
@Command(name = "zookeeper", mixinStandardHelpOptions = true,
        description = "Run a stand-alone ZooKeeper server (for a development cluster) until SIGTERM or Ctrl-C.")
final class ZooKeeperCommand implements Callable<Integer> {

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "2181",
            description = "Client port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Interface to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./data/zookeeper-standalone",
            description = "Folder of ZooKeeper's snapshots and transaction log (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--tick-time-ms", paramLabel = "MS", defaultValue = "500",
            description = "ZooKeeper's tick; clients get session timeouts from 2 ticks to 60 s "
                    + "(default: ${DEFAULT-VALUE}).")
    int tickTimeMs;

    @Option(names = "--start-timeout-ms", paramLabel = "MS", defaultValue = "30000",
            description = "How long to wait for the server to accept clients (default: ${DEFAULT-VALUE}).")
    long startTimeoutMs;

    @Override
    public Integer call() throws Exception {
        if (tickTimeMs < 1 || 2L * tickTimeMs > EmbeddedZooKeeper.MAX_SESSION_TIMEOUT_MS) {
            System.err.println("millrace zookeeper: --tick-time-ms must be between 1 and "
                    + EmbeddedZooKeeper.MAX_SESSION_TIMEOUT_MS / 2 + ", was " + tickTimeMs);
            return 2;
        }
        Path dir = dataDir.toAbsolutePath().normalize();
        EmbeddedZooKeeper server;
        try {
            server = EmbeddedZooKeeper.start(dir, host, port, tickTimeMs, startTimeoutMs);
        } catch (Exception e) {
            System.err.println("millrace zookeeper: cannot start on " + host + ":" + port + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            System.out.println("Millrace ZooKeeper at " + server.connectString() + " stopped");
            stopped.countDown();
        }, "millrace-zookeeper-shutdown"));
        System.out.println("Millrace ZooKeeper ready at " + server.connectString() + " (tick " + tickTimeMs
                + " ms, session timeouts " + 2 * tickTimeMs + "-" + EmbeddedZooKeeper.MAX_SESSION_TIMEOUT_MS
                + " ms, data " + dir + ")");
        System.out.flush();
        stopped.await();
        return 0;
    }
}
