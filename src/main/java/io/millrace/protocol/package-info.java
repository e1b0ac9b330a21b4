/**
 * The native binary protocol spoken over TCP between the Java SDK and a broker's TCP gateway, shared by both sides.
 *
 * <p>{@link io.millrace.protocol.FrameCodec} owns the wire format and documents it byte by byte; the messages are
 * immutable records: a {@link io.millrace.protocol.Request} per operation, a {@link io.millrace.protocol.Response}
 * per answer (or an {@link io.millrace.protocol.ErrorResponse}), and {@link io.millrace.protocol.Push} for
 * subscriptions. Record batches travel as Kafka RecordBatch v2 bytes, sliced out of frames rather than copied.
 *
 * <p>Plain Java on {@link java.nio.ByteBuffer}: no Vert.x, no Netty, so the broker and the SDK can use it alike.
 */
package io.millrace.protocol;
