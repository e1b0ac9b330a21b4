package io.millrace.protocol;

import java.util.Objects;

/**
 * The first frame a client sends on a connection: the range of protocol versions it speaks. The server answers with
 * a {@link HandshakeResponse} naming the version both will use, or an {@link ErrorResponse} with
 * {@code UNSUPPORTED_VERSION} (see {@link FrameCodec#negotiateVersion}). The layout of HANDSHAKE is the same in
 * every protocol version, so that any two peers can negotiate.
 *
 * @param minVersion lowest version the client speaks, in [0, 32767]
 * @param maxVersion highest version the client speaks, in [minVersion, 32767]
 * @param clientId   free text naming the client for logs and metrics; not null, may be empty
 */
public record HandshakeRequest(int minVersion, int maxVersion, String clientId) implements Request {

    /** The string every handshake starts with; a connection that sends anything else is not a Millrace client. */
    public static final String MAGIC = "MILLRACE";

    public HandshakeRequest {
        Require.int16(minVersion, 0, "minVersion");
        Require.int16(maxVersion, minVersion, "maxVersion");
        Objects.requireNonNull(clientId, "clientId");
    }

    /** A handshake offering the versions this codec speaks. */
    public static HandshakeRequest of(String clientId) {
        return new HandshakeRequest(FrameCodec.MIN_VERSION, FrameCodec.MAX_VERSION, clientId);
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.HANDSHAKE;
    }

    void write(WireWriter w) {
        w.string(MAGIC);
        w.int16(minVersion);
        w.int16(maxVersion);
        w.string(clientId);
    }

    static HandshakeRequest read(WireReader r) {
        int at = r.offset();
        String magic = r.nullableString("magic");
        if (!MAGIC.equals(magic)) {
            throw r.malformed(at, "magic", "is not \"" + MAGIC + "\": not a Millrace client");
        }
        return new HandshakeRequest(r.int16("minVersion"), r.int16("maxVersion"), r.string("clientId"));
    }
}
