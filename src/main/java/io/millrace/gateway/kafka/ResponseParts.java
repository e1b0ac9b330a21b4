package io.millrace.gateway.kafka;

import io.millrace.broker.FetchedRecords;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * A response serialised as it goes on the wire: bytes from the heap, and, where it holds {@link BrokerRecords}, the
 * broker's batches (segment file regions, or bytes another broker sent) to send in their place. Everything a message
 * class writes lands in one heap buffer of exactly the response's size less the broker records' bytes; each
 * {@code writeRecords} of broker records marks where in it the batches go.
 *
 * <p>Not thread-safe; one response at a time.
 */
final class ResponseParts implements Writable {

    /** A part of the response in wire order: heap bytes, or the broker's batches. */
    sealed interface Part permits Heap, Batches {
    }

    record Heap(ByteBuffer bytes) implements Part {
    }

    record Batches(FetchedRecords records) implements Part {
    }

    private final ByteBuffer heap;
    private final ByteBufferAccessor out;
    private final List<Integer> cuts = new ArrayList<>();
    private final List<FetchedRecords> batches = new ArrayList<>();

    /** @param heapBytes the response's size (with its size field) less the bytes of its broker records */
    ResponseParts(int heapBytes) {
        this.heap = ByteBuffer.allocate(heapBytes);
        this.out = new ByteBufferAccessor(heap);
    }

    /** The parts in wire order; call once everything is written. */
    List<Part> parts() {
        if (heap.hasRemaining()) {
            throw new IllegalStateException("The response wrote " + heap.position() + " heap bytes of "
                    + heap.capacity());
        }
        List<Part> parts = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < cuts.size(); i++) {
            parts.add(new Heap(heap.duplicate().position(from).limit(cuts.get(i)).slice()));
            parts.add(new Batches(batches.get(i)));
            from = cuts.get(i);
        }
        parts.add(new Heap(heap.duplicate().position(from).limit(heap.capacity()).slice()));
        return parts;
    }

    @Override
    public void writeRecords(BaseRecords records) {
        if (records instanceof BrokerRecords broker) {
            cuts.add(heap.position());
            batches.add(broker.records());
        } else if (records instanceof MemoryRecords memory) {
            out.writeByteBuffer(memory.buffer());
        } else {
            throw new IllegalArgumentException("Cannot write records of " + records.getClass());
        }
    }

    @Override
    public void writeByte(byte val) {
        out.writeByte(val);
    }

    @Override
    public void writeShort(short val) {
        out.writeShort(val);
    }

    @Override
    public void writeInt(int val) {
        out.writeInt(val);
    }

    @Override
    public void writeLong(long val) {
        out.writeLong(val);
    }

    @Override
    public void writeDouble(double val) {
        out.writeDouble(val);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        out.writeByteArray(arr);
    }

    @Override
    public void writeUnsignedVarint(int i) {
        out.writeUnsignedVarint(i);
    }

    @Override
    public void writeByteBuffer(ByteBuffer buf) {
        out.writeByteBuffer(buf);
    }

    @Override
    public void writeVarint(int i) {
        out.writeVarint(i);
    }

    @Override
    public void writeVarlong(long i) {
        out.writeVarlong(i);
    }
}
