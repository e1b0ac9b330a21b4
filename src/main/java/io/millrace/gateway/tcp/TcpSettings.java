package io.millrace.gateway.tcp;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.protocol.FrameCodec;

/**
 * Limits of the TCP gateway (see docs/OPERATIONS.md for the config keys). Checked when built, so a bad value stops
 * the start-up with a message naming its key instead of failing on the first connection.
 *
 * @param maxFrameBytes       largest size field accepted ({@code tcp.max.frame.bytes}); told to clients at handshake
 * @param maxConnections      most concurrent connections over all event loops ({@code tcp.max.connections})
 * @param maxConnectionsPerIp most concurrent connections from one client IP address
 *                            ({@code tcp.max.connections.per.ip})
 * @param idleTimeoutMs       a connection with no traffic either way for this long is closed
 *                            ({@code tcp.idle.timeout.ms})
 * @param handshakeTimeoutMs  time from connect to a complete HANDSHAKE frame ({@code tcp.handshake.timeout.ms}); also
 *                            how long a connection already refused waits for the header of its oversized frame
 * @param maxInFlightRequests unanswered requests per connection before the gateway stops reading it
 *                            ({@code tcp.max.inflight.requests}); told to clients at handshake
 * @param maxSubscriptions    open subscriptions per connection ({@code tcp.max.subscriptions})
 * @param requestReadTimeoutMs time from a frame's first byte to its last ({@code tcp.request.read.timeout.ms}), so
 *                            that a client trickling bytes cannot hold a connection the idle timeout never sees idle
 */
public record TcpSettings(int maxFrameBytes, int maxConnections, int maxConnectionsPerIp, long idleTimeoutMs,
                          long handshakeTimeoutMs, long requestReadTimeoutMs, int maxInFlightRequests,
                          int maxSubscriptions) {

    public TcpSettings {
        atLeast(maxFrameBytes, FrameCodec.HEADER_BYTES, "tcp.max.frame.bytes");
        atLeast(maxConnections, 1, "tcp.max.connections");
        atLeast(maxConnectionsPerIp, 1, "tcp.max.connections.per.ip");
        atLeast(idleTimeoutMs, 1, "tcp.idle.timeout.ms");
        atLeast(handshakeTimeoutMs, 1, "tcp.handshake.timeout.ms");
        atLeast(requestReadTimeoutMs, 1, "tcp.request.read.timeout.ms");
        atLeast(maxInFlightRequests, 1, "tcp.max.inflight.requests");
        atLeast(maxSubscriptions, 1, "tcp.max.subscriptions");
    }

    private static void atLeast(long value, long min, String key) {
        if (value < min) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Config key " + key + " must be at least " + min
                    + ", was " + value);
        }
    }
}
