package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.client.MillraceClient;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One idempotent acks=all SDK producer sending {@code count} keyed records ({@code <name>-<i>}, unique values) on its
 * own thread, with at most {@link #IN_FLIGHT} unanswered so that the stream is still going when a test breaks
 * something, logging each acknowledgement in the {@link Oracle} and each failure here. A loop that runs until
 * {@link #stop stopped} should be {@link #paced}: unpaced, how many records it sends (and the oracle holds in memory)
 * depends on how fast the machine is, and a throttled follower may never catch up with it.
 */
final class SendLoop {

    /** Records a producer may have sent and not yet seen answered. */
    static final int IN_FLIGHT = 4_000;

    private final Producer producer;
    private final String topic;
    private final String name;
    private final int count;
    private final int keys;
    private final Oracle oracle;
    private final Semaphore permits = new Semaphore(IN_FLIGHT);
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean stopRequested;
    private volatile int sent;
    private int recordsPerSecond;

    SendLoop(MillraceClient client, String topic, String name, int count, int keys, Oracle oracle) {
        this.producer = client.producer(ProducerConfig.defaults().withAcks(-1).withIdempotence(true)
                .withRetryBackoff(Duration.ofMillis(50)).withDeliveryTimeout(Duration.ofMinutes(2)));
        this.topic = topic;
        this.name = name;
        this.count = count;
        this.keys = keys;
        this.oracle = oracle;
        this.thread = new Thread(this::run, "send-loop-" + name);
        thread.setDaemon(true);
    }

    /** Sends at most {@code recordsPerSecond} records a second; call before {@link #start}. */
    SendLoop paced(int recordsPerSecond) {
        this.recordsPerSecond = recordsPerSecond;
        return this;
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            long startedNanos = System.nanoTime();
            for (int i = 0; i < count && !stopRequested; i++) {
                if (recordsPerSecond > 0) {
                    long dueNanos = startedNanos + i * 1_000_000_000L / recordsPerSecond;
                    long aheadNanos = dueNanos - System.nanoTime();
                    if (aheadNanos > 0) {
                        TimeUnit.NANOSECONDS.sleep(aheadNanos);
                    }
                }
                permits.acquire();
                String key = "key-" + Math.floorMod(i + name.hashCode(), keys);
                String value = name + "-" + i;
                producer.send(ProducerRecord.of(topic, key, value)).subscribe(m -> {
                    oracle.acknowledged(topic, m.partition(), m.offset(), key, value);
                    permits.release();
                }, e -> {
                    failures.add(value + ": " + e);
                    permits.release();
                });
                sent = i + 1;
            }
            permits.acquire(IN_FLIGHT);
            permits.release(IN_FLIGHT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends no more records after the one being sent; {@link #join} then waits for the answers. */
    void stop() {
        stopRequested = true;
    }

    /** Whether records are still being sent: neither all {@code count} sent and answered, nor stopped and drained. */
    boolean sending() {
        return thread.isAlive();
    }

    /** Records sent so far. */
    int sent() {
        return sent;
    }

    boolean failed() {
        return !failures.isEmpty();
    }

    /** The first 20 failed sends. */
    List<String> failures() {
        return failures.stream().limit(20).toList();
    }

    /** Waits until every record is answered, then closes the producer. */
    void join(Duration atMost) throws InterruptedException {
        thread.join(atMost.toMillis());
        assertThat(thread.isAlive()).as("producer " + name + " still sending after " + atMost).isFalse();
        producer.closeGracefully().block(Duration.ofSeconds(30));
    }
}
