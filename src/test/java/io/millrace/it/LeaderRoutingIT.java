package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.ConsumerRecord;
import io.millrace.client.MillraceClient;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.RecordMetadata;
import io.millrace.client.Seek;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.Push;
import io.millrace.protocol.ListOffsetsRequest;
import io.millrace.protocol.ListOffsetsResponse;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.TopicDescription;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Two broker processes sharing one ZooKeeper, and topics with replication factor 1 whose partitions are led by
 * either broker: the SDK sends each partition's requests to its leader (learned from metadata, bootstrapping from
 * one broker only), a broker asked for a partition it does not lead forwards the request to the leader, and a
 * reader whose leader dies keeps retrying with back-off until the broker is back.
 */
class LeaderRoutingIT {

    static BrokerProcess first;
    static BrokerProcess second;
    static MillraceClient client;

    @BeforeAll
    static void start() {
        first = BrokerProcess.start("routing-0", Map.of());
        second = BrokerProcess.start("routing-1", Map.of("zookeeper.connect", "127.0.0.1:" + first.zookeeperPort(),
                "broker.id", "1"));
        client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + first.tcpPort()).withClientId("routing")
                .withReconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(1000)));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
    }

    @Test
    void producerAndConsumerReachEveryPartitionWhicheverBrokerLeadsIt() {
        TopicDescription topic = createSpreadTopic("routed", 6);
        assertThat(topic.partitions().stream().map(p -> p.leader().getAsInt()).distinct()).containsOnly(0, 1);

        Producer producer = client.producer(ProducerConfig.defaults());
        List<ProducerRecord> records = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            records.add(ProducerRecord.of("routed", "key-" + (i % 17), "value-" + i));
        }
        List<RecordMetadata> acks = producer.send(Flux.fromIterable(records)).collectList()
                .block(Duration.ofSeconds(60));
        assertThat(acks).hasSize(600);
        assertThat(acks.stream().map(RecordMetadata::partition).distinct()).hasSize(6);

        List<TopicPartition> all = IntStream.range(0, 6).mapToObj(p -> new TopicPartition("routed", p)).toList();
        List<ConsumerRecord> read = client.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest()).receive()
                .take(600).collectList().block(Duration.ofSeconds(60));

        // exactly once, and per partition in the order produced
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int i = 0; i < 600; i++) {
            expected.computeIfAbsent(acks.get(i).partition(), p -> new ArrayList<>()).add("value-" + i);
        }
        Map<Integer, List<String>> actual = new HashMap<>();
        Map<Integer, List<Long>> offsets = new HashMap<>();
        for (ConsumerRecord r : read) {
            actual.computeIfAbsent(r.partition(), p -> new ArrayList<>())
                    .add(new String(r.value(), StandardCharsets.UTF_8));
            offsets.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r.offset());
        }
        assertThat(actual).isEqualTo(expected);
        offsets.forEach((p, list) -> assertThat(list).as("partition %d", p)
                .isEqualTo(LongRangeList.of(0, list.size())));
        producer.close();
    }

    @Test
    void aBrokerAskedForAPartitionItDoesNotLeadServesItFromTheLeader() {
        TopicDescription topic = createSpreadTopic("misrouted", 4);
        TopicDescription.PartitionDescription elsewhere = topic.partitions().stream()
                .filter(p -> p.leader().getAsInt() == 1).findFirst().orElseThrow();
        Producer producer = client.producer(ProducerConfig.defaults());
        for (int i = 0; i < 3; i++) {
            producer.sendSync(ProducerRecord.of("misrouted", null, "led-by-1-" + i)
                    .withPartition(elsewhere.partition()));
        }
        producer.close();

        // a raw connection to broker 0 only: it forwards to broker 1, which leads the partition
        try (TcpClient raw = TcpClient.connect(first.tcpPort())) {
            ListOffsetsResponse offsets = raw.ok(new ListOffsetsRequest("misrouted", List.of(
                    new ListOffsetsRequest.PartitionQuery(elsewhere.partition(), ListOffsetsRequest.LATEST_TIMESTAMP))),
                    ListOffsetsResponse.class);
            assertThat(offsets.partitions().get(0).error()).isEmpty();
            assertThat(offsets.partitions().get(0).offset()).hasValue(3);

            int sid = raw.send(new SubscribeRequest("misrouted", elsewhere.partition(),
                    SubscribeRequest.StartPosition.earliest(), 10, 1 << 20));
            assertThat(raw.awaitResponse(sid, Duration.ofSeconds(30)).error()).isEmpty();
            List<String> values = new ArrayList<>();
            while (values.size() < 3) {
                Push push = raw.awaitPush(sid, Duration.ofSeconds(30));
                TcpGatewayIT.records(push.recordBatches()).forEach(r -> values.add(r.offset() + ":"
                        + TcpGatewayIT.text(r.value())));
            }
            assertThat(values).containsExactly("0:led-by-1-0", "1:led-by-1-1", "2:led-by-1-2");
        }
    }

    @Test
    void aReaderWhoseLeaderDiesRetriesWithBackOffAndResumesWhenItReturns() throws Exception {
        TopicDescription topic = createSpreadTopic("outage", 2);
        int partition = topic.partitions().stream().filter(p -> p.leader().getAsInt() == 1).findFirst()
                .orElseThrow().partition();
        TopicPartition tp = new TopicPartition("outage", partition);
        Producer producer = client.producer(ProducerConfig.defaults().withDeliveryTimeout(Duration.ofSeconds(90)));
        for (int i = 0; i < 10; i++) {
            producer.sendSync(ProducerRecord.of("outage", null, "before-" + i).withPartition(partition));
        }

        ConcurrentLinkedQueue<ConsumerRecord> read = new ConcurrentLinkedQueue<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicInteger completed = new AtomicInteger();
        Disposable reading = client.consumer(ConsumerConfig.defaults()).assign(tp, Seek.earliest()).receive()
                .subscribe(read::add, failed::set, completed::incrementAndGet);
        await().atMost(Duration.ofSeconds(30)).until(() -> read.size() == 10);

        second.kill();
        int attempts;
        // Where the broker listened, a hostile stand-in accepts and closes every connection: the cheapest failure
        // for a client to retry, so a client without back-off would dial it thousands of times.
        try (CountingRefuser refuser = new CountingRefuser(second.tcpPort())) {
            Thread.sleep(4_000); // the observation window: how often the reader dials in 4 s
            attempts = refuser.accepted();
        }
        assertThat(failed.get()).as("the reader must not end on a retriable error").isNull();
        assertThat(completed.get()).isZero();
        // 50 ms doubling up to 1 s is about 9 attempts in 4 s, per caller that dials (reader, metadata)
        assertThat(attempts).as("connection attempts to the dead broker in 4 s").isLessThan(40);

        second.restart();
        for (int i = 0; i < 10; i++) {
            producer.send(ProducerRecord.of("outage", null, "after-" + i).withPartition(partition))
                    .block(Duration.ofSeconds(90));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> read.size() >= 20);
        reading.dispose();
        assertThat(failed.get()).isNull();
        List<ConsumerRecord> records = new ArrayList<>(read);
        assertThat(records).hasSize(20);
        assertThat(records.stream().map(ConsumerRecord::offset).toList()).isEqualTo(LongRangeList.of(0, 20));
        assertThat(records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList())
                .isEqualTo(IntStream.range(0, 20).mapToObj(i -> i < 10 ? "before-" + i : "after-" + (i - 10))
                        .toList());
        producer.close();
    }

    /** Creates a topic with replication factor 1 whose partitions both brokers lead (retrying names if needed). */
    private static TopicDescription createSpreadTopic(String name, int partitions) {
        client.admin().createTopic(name, partitions, 1, Map.of())
                .block(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).until(() -> client.admin().describeTopic(name)
                .block(Duration.ofSeconds(10)).partitions().stream().allMatch(p -> p.leader().isPresent()));
        return client.admin().describeTopic(name).block(Duration.ofSeconds(10));
    }

    /** 0, 1, ..., n-1 as longs. */
    private static final class LongRangeList {
        static List<Long> of(long from, long to) {
            List<Long> out = new ArrayList<>();
            for (long i = from; i < to; i++) {
                out.add(i);
            }
            return out;
        }
    }

    /** Listens on a port, counting and closing every connection at once. */
    private static final class CountingRefuser implements AutoCloseable {
        private final ServerSocket server;
        private final AtomicInteger accepted = new AtomicInteger();
        private final Thread thread;

        CountingRefuser(int port) {
            try {
                server = new ServerSocket();
                server.setReuseAddress(true);
                server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            thread = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "counting-refuser");
            thread.setDaemon(true);
            thread.start();
        }

        int accepted() {
            return accepted.get();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
