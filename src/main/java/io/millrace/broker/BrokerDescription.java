package io.millrace.broker;

/**
 * A broker of the cluster as the REST API and the TCP and Kafka metadata show it; {@code kafkaHost} and
 * {@code kafkaPort} are empty and 0 when it has no Kafka listener.
 */
public record BrokerDescription(int id, String host, int httpPort, int tcpPort, boolean alive, boolean controller,
                                String kafkaHost, int kafkaPort) {
}
