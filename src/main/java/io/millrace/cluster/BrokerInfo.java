package io.millrace.cluster;

import io.vertx.core.json.JsonObject;

/**
 * A broker as registered in ZooKeeper.
 *
 * @param dataDir     absolute data folder, which lets a restarted broker recognise its own stale registration
 * @param clusterHost where its clustered event bus listens (the controller watches that port: see
 *                    {@link BrokerFailureDetector}); empty and 0 when unknown
 * @param kafkaHost   where Kafka clients reach its Kafka listener ({@code kafka.advertised.host}); empty and 0 when
 *                    it has none (a registration written before the listener existed)
 */
public record BrokerInfo(int id, String host, int httpPort, int tcpPort, String dataDir, String clusterHost,
                         int clusterPort, String kafkaHost, int kafkaPort) {

    public BrokerInfo(int id, String host, int httpPort, int tcpPort, String dataDir) {
        this(id, host, httpPort, tcpPort, dataDir, "", 0, "", 0);
    }

    public JsonObject toJson() {
        return new JsonObject().put("version", 1).put("id", id).put("host", host).put("httpPort", httpPort)
                .put("tcpPort", tcpPort).put("dataDir", dataDir).put("clusterHost", clusterHost)
                .put("clusterPort", clusterPort).put("kafkaHost", kafkaHost).put("kafkaPort", kafkaPort);
    }

    public static BrokerInfo fromJson(JsonObject json) {
        return new BrokerInfo(json.getInteger("id"), json.getString("host"), json.getInteger("httpPort"),
                json.getInteger("tcpPort"), json.getString("dataDir", ""), json.getString("clusterHost", ""),
                json.getInteger("clusterPort", 0), json.getString("kafkaHost", ""), json.getInteger("kafkaPort", 0));
    }
}
