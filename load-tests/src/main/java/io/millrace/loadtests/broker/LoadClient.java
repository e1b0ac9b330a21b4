package io.millrace.loadtests.broker;

import java.util.List;
import java.util.OptionalInt;

/**
 * What a scenario needs from a broker's native client, so that one scenario drives Millrace (its SDK) and Kafka (its
 * own client) alike. Implementations are thread-safe.
 */
interface LoadClient extends AutoCloseable {

    /**
     * How the client creates topics: replication factor and {@code min.insync.replicas} (0: the broker's default, no
     * topic override).
     */
    record TopicSettings(int replicationFactor, int minInsyncReplicas) {
        static final TopicSettings SINGLE = new TopicSettings(1, 0);
    }

    /** A partition's leader (empty while it has none) and in-sync replicas, as the cluster describes it now. */
    record PartitionState(OptionalInt leader, List<Integer> isr) {
    }

    /** Producer settings shared by both systems; Kafka's names in brackets. */
    record ProducerSettings(int acks, int batchSize, int lingerMs, long bufferMemory) {
        /** Idempotence on with acks=all, as both clients default to; Kafka refuses it with acks=1. */
        boolean idempotent() {
            return acks == -1;
        }

        String acksName() {
            return acks == -1 ? "all" : Integer.toString(acks);
        }
    }

    /** Called once per record when it is acknowledged (error null) or failed. */
    interface Callback {
        void done(Throwable error);
    }

    /** Like {@link Callback}, with the offset the record got (-1 when it failed). */
    interface OffsetCallback {
        void done(long offset, Throwable error);
    }

    /** Called once per record read, in partition order, on a client thread. */
    interface RecordSink {
        void record(byte[] value);
    }

    interface Sender extends AutoCloseable {
        /** Hands a record to the producer; may block while the producer's buffer is full (Kafka's client does). */
        default void send(String topic, int partition, byte[] value, Callback callback) {
            sendWithOffset(topic, partition, value, (offset, error) -> callback.done(error));
        }

        /** As {@link #send}, telling the callback the record's offset. */
        void sendWithOffset(String topic, int partition, byte[] value, OffsetCallback callback);

        @Override
        void close();
    }

    interface Receiver extends AutoCloseable {
        @Override
        void close();
    }

    /** Creates {@code topic} with this client's {@link TopicSettings}. */
    void createTopic(String topic, int partitions) throws Exception;

    /** The partition's leader and ISR as the cluster describes it now. */
    PartitionState describe(String topic, int partition) throws Exception;

    /** Deletes {@code topic}; its files may go a little later (see {@link BrokerUnderTest#awaitTopicFilesGone}). */
    void deleteTopic(String topic) throws Exception;

    Sender sender(ProducerSettings settings);

    /** Reads every partition of {@code topic} from the earliest offset until closed. */
    Receiver receive(String topic, int partitions, RecordSink sink);

    @Override
    void close();
}
