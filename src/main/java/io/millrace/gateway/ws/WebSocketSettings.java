package io.millrace.gateway.ws;

import io.millrace.broker.json.JsonInput;

/**
 * Limits of the WebSocket gateway (see docs/OPERATIONS.md for the config keys).
 *
 * @param maxFrameBytes       largest message accepted ({@code ws.max.frame.bytes})
 * @param maxConnections      most concurrent sockets ({@code ws.max.connections})
 * @param maxConnectionsPerIp most concurrent sockets from one client IP address ({@code ws.max.connections.per.ip})
 * @param idleTimeoutMs       a socket silent this long is closed ({@code ws.idle.timeout.ms})
 * @param maxInFlightRequests most unanswered requests per socket ({@code ws.max.inflight.requests})
 * @param maxSubscriptions    most partitions subscribed per socket ({@code ws.max.subscriptions})
 * @param maxCredits          most outstanding record credits per subscription ({@code ws.max.credits})
 * @param pushLingerMs        how long a record at a partition's end may wait for more before it is pushed, unless
 *                            the subscription asks for its own ({@code ws.push.linger.ms})
 * @param maxPushLingerMs     the longest linger a subscription may ask for (what {@code ws.push.linger.ms} may be)
 * @param fetchBytes          bytes read per partition fetch for a subscription
 * @param json                how messages are parsed ({@code json.max.nesting.depth}, {@code json.max.string.bytes})
 */
public record WebSocketSettings(int maxFrameBytes, int maxConnections, int maxConnectionsPerIp, long idleTimeoutMs,
                                int maxInFlightRequests, int maxSubscriptions, int maxCredits, int pushLingerMs,
                                int maxPushLingerMs, int fetchBytes,
                                JsonInput json) {
}
