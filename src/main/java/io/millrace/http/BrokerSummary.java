package io.millrace.http;

import io.vertx.core.json.JsonObject;

/**
 * One broker's figures for one sampling interval, as it publishes them to every broker of the cluster (see
 * {@link BrokerSummaries}). Small on purpose: a fixed handful of numbers whatever the partition count.
 *
 * <p>On the event bus it is JSON, version 1:
 * {@code {"v": 1, "brokerId", "time", "rates": {"recordsIn", "bytesIn", "recordsOut", "bytesOut"}, "replicas",
 * "leaders", "underReplicated"}}. A receiver ignores fields it does not know and a summary of another version.
 *
 * @param brokerId        the broker that measured it
 * @param time            end of the interval, ms since the epoch, on that broker's clock
 * @param rates           the traffic through that broker, per second
 * @param replicas        partition replicas of user topics it holds
 * @param leaders         how many of them it leads
 * @param underReplicated how many of those it leads have fewer in-sync replicas than replicas
 */
record BrokerSummary(int brokerId, long time, Rates rates, int replicas, int leaders, int underReplicated) {

    static final int VERSION = 1;

    JsonObject toJson() {
        return new JsonObject().put("v", VERSION).put("brokerId", brokerId).put("time", time)
                .put("rates", rates.toJson()).put("replicas", replicas).put("leaders", leaders)
                .put("underReplicated", underReplicated);
    }

    /** What the dashboard gets for one broker: the same fields without the version and id. */
    JsonObject toDashboardJson() {
        return new JsonObject().put("time", time).put("rates", rates.toJson()).put("replicas", replicas)
                .put("leaders", leaders).put("underReplicated", underReplicated);
    }

    /**
     * Reads a summary published by a broker of this or another version; {@code null} for one of another version or
     * without the fields this version needs (a broker never fails on a peer's message).
     */
    static BrokerSummary fromJson(JsonObject json) {
        try {
            if (json == null || json.getInteger("v", -1) != VERSION) {
                return null;
            }
            JsonObject r = json.getJsonObject("rates");
            Rates rates = new Rates(r.getDouble("recordsIn"), r.getDouble("bytesIn"), r.getDouble("recordsOut"),
                    r.getDouble("bytesOut"));
            return new BrokerSummary(json.getInteger("brokerId"), json.getLong("time"), rates,
                    json.getInteger("replicas"), json.getInteger("leaders"), json.getInteger("underReplicated"));
        } catch (ClassCastException | NullPointerException e) {
            return null;
        }
    }
}
