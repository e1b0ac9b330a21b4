package io.millrace.gateway.kafka;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.millrace.broker.Broker;
import io.millrace.broker.BrokerMetrics;
import io.millrace.broker.LoopbackConnection;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

/** For tests of the Kafka listener's connection over a real socket, in front of a test's own broker. */
final class KafkaLoopback {

    private KafkaLoopback() {
    }

    /** A loopback connection whose server side is a Kafka listener connection answering from {@code broker}. */
    static LoopbackConnection open(Broker broker, KafkaSettings settings) throws Exception {
        return LoopbackConnection.open(socket -> {
            KafkaConnection kafka = new KafkaConnection(socket, new KafkaApis(broker, settings, "127.0.0.1"),
                    settings, new BrokerMetrics(new SimpleMeterRegistry()));
            socket.closeHandler(v -> kafka.closed());
            kafka.start();
        });
    }

    /** A request as a Kafka client frames it: size, header of the version's kind, body. */
    static Buffer requestFrame(ApiKeys key, short version, int correlationId, String clientId, ApiMessage request) {
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setCorrelationId(correlationId).setClientId(clientId);
        short headerVersion = key.requestHeaderVersion(version);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + request.size(cache, version);
        ByteBuffer frame = ByteBuffer.allocate(4 + size).putInt(size);
        ByteBufferAccessor out = new ByteBufferAccessor(frame);
        header.write(out, cache, headerVersion);
        request.write(out, cache, version);
        return Buffer.buffer(frame.array());
    }
}
