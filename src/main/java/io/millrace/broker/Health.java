package io.millrace.broker;

import java.util.List;

/**
 * Whether the broker can serve: connected to ZooKeeper and every partition it owns up.
 *
 * @param partitionsDown partitions this broker should own whose verticle is not running
 */
public record Health(boolean zookeeperConnected, int localPartitions, List<String> partitionsDown) {

    public boolean ready() {
        return zookeeperConnected && partitionsDown.isEmpty();
    }
}
