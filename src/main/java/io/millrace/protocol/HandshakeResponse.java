package io.millrace.protocol;

/**
 * The server's answer to a {@link HandshakeRequest}: the version the connection uses from now on and the server's
 * limits.
 *
 * @param version             the chosen protocol version, in the client's range; [0, 32767]
 * @param brokerId            the id of the broker the client is connected to
 * @param maxFrameBytes       the largest frame the server accepts (its size field); a larger frame is answered with
 *                            {@code FRAME_TOO_LARGE} and the connection is closed. > 0
 * @param maxInFlightRequests the most requests the client may have sent and not yet seen answered; > 0. A server
 *                            may stop reading the connection while a client exceeds it.
 */
public record HandshakeResponse(int version, int brokerId, int maxFrameBytes, int maxInFlightRequests)
        implements Response {

    public HandshakeResponse {
        Require.int16(version, 0, "version");
        Require.positive(maxFrameBytes, "maxFrameBytes");
        Require.positive(maxInFlightRequests, "maxInFlightRequests");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.HANDSHAKE;
    }

    void write(WireWriter w) {
        w.int16(version);
        w.int32(brokerId);
        w.int32(maxFrameBytes);
        w.int32(maxInFlightRequests);
    }

    static HandshakeResponse read(WireReader r) {
        return new HandshakeResponse(r.int16("version"), r.int32("brokerId"), r.int32("maxFrameBytes"),
                r.int32("maxInFlightRequests"));
    }
}
