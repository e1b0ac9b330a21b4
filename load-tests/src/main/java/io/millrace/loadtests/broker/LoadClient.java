package io.millrace.loadtests.broker;

/**
 * What a scenario needs from a broker's native client, so that one scenario drives Millrace (its SDK) and Kafka (its
 * own client) alike. Implementations are thread-safe.
 */
interface LoadClient extends AutoCloseable {

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

    /** Called once per record read, in partition order, on a client thread. */
    interface RecordSink {
        void record(byte[] value);
    }

    interface Sender extends AutoCloseable {
        /** Hands a record to the producer; may block while the producer's buffer is full (Kafka's client does). */
        void send(String topic, int partition, byte[] value, Callback callback);

        @Override
        void close();
    }

    interface Receiver extends AutoCloseable {
        @Override
        void close();
    }

    void createTopic(String topic, int partitions) throws Exception;

    /** Deletes {@code topic}; its files may go a little later (see {@link BrokerUnderTest#awaitTopicFilesGone}). */
    void deleteTopic(String topic) throws Exception;

    Sender sender(ProducerSettings settings);

    /** Reads every partition of {@code topic} from the earliest offset until closed. */
    Receiver receive(String topic, int partitions, RecordSink sink);

    @Override
    void close();
}
