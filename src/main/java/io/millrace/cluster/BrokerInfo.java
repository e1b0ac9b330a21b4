package io.millrace.cluster;

import io.vertx.core.json.JsonObject;

/**
 * A broker as registered in ZooKeeper.
 *
 * @param dataDir absolute data folder, which lets a restarted broker recognise its own stale registration
 */
public record BrokerInfo(int id, String host, int httpPort, int tcpPort, String dataDir) {

    public JsonObject toJson() {
        return new JsonObject().put("version", 1).put("id", id).put("host", host).put("httpPort", httpPort)
                .put("tcpPort", tcpPort).put("dataDir", dataDir);
    }

    public static BrokerInfo fromJson(JsonObject json) {
        return new BrokerInfo(json.getInteger("id"), json.getString("host"), json.getInteger("httpPort"),
                json.getInteger("tcpPort"), json.getString("dataDir", ""));
    }
}
