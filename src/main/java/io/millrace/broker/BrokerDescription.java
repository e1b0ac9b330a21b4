package io.millrace.broker;

/** A broker of the cluster as the REST API and the TCP metadata show it. */
public record BrokerDescription(int id, String host, int httpPort, int tcpPort, boolean alive, boolean controller) {
}
