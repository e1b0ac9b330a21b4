package io.millrace.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Writes arbitrary, possibly malformed, frame bytes (without the size prefix) for tests. */
final class RawFrame {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    RawFrame int8(int v) {
        out.write(v);
        return this;
    }

    RawFrame int16(int v) {
        return int8(v >> 8).int8(v);
    }

    RawFrame int32(int v) {
        return int16(v >> 16).int16(v);
    }

    RawFrame int64(long v) {
        return int32((int) (v >> 32)).int32((int) v);
    }

    RawFrame string(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        int16(bytes.length);
        return raw(bytes);
    }

    RawFrame raw(byte... bytes) {
        out.write(bytes, 0, bytes.length);
        return this;
    }

    /** The frame bytes after the size prefix. */
    ByteBuffer build() {
        return ByteBuffer.wrap(out.toByteArray());
    }

    /** The frame with its size prefix, as on the wire. */
    ByteBuffer buildWithSize() {
        byte[] body = out.toByteArray();
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).flip();
    }
}
