package io.millrace.partition;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes request and response objects between verticles of the same broker by reference: no serialization on the
 * hot path. Every object sent with it is immutable or handed over (the sender lets go of it).
 *
 * <p>Requests to a partition led by another broker are not sent with this codec: the broker API forwards those to
 * the leader's own gateway address with a wire codec, which arrives with clustering.
 */
public final class LocalCodec implements MessageCodec<Object, Object> {

    public static final String NAME = "millrace.local";

    @Override
    public void encodeToWire(Buffer buffer, Object o) {
        throw new IllegalStateException("millrace.local only carries objects inside one broker, not "
                + o.getClass().getName() + " across the cluster");
    }

    @Override
    public Object decodeFromWire(int pos, Buffer buffer) {
        throw new IllegalStateException("millrace.local only carries objects inside one broker");
    }

    @Override
    public Object transform(Object o) {
        return o;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
