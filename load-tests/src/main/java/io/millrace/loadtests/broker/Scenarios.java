package io.millrace.loadtests.broker;

import io.millrace.loadtests.broker.LoadClient.ProducerSettings;
import io.millrace.loadtests.broker.LoadClient.Receiver;
import io.millrace.loadtests.broker.LoadClient.Sender;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Recorder;

/**
 * The client-driven scenarios, the same code for Millrace and Kafka: only the {@link LoadClient} differs. Records
 * carry, in their first 16 bytes, the {@link System#nanoTime()} they were meant to be sent at (relative to
 * {@link #ORIGIN}) and their index, so the consumer in the same JVM measures end-to-end latency without clock skew.
 * The rest of each value is random (incompressible) bytes.
 */
final class Scenarios {

    static final long ORIGIN = System.nanoTime();
    private static final long SAMPLE_MS = 250;

    private final LoadTest.Options o;
    private final byte[] template;

    Scenarios(LoadTest.Options o) {
        this.o = o;
        this.template = new byte[o.recordSize()];
        new Random(42).nextBytes(template);
    }

    ProducerSettings settings(int acks) {
        return new ProducerSettings(acks, o.batchSize(), o.lingerMs(), o.bufferMemory());
    }

    /** Largest number of records a driver keeps unacknowledged: the producer's buffer memory worth of records. */
    private int maxOutstanding() {
        return (int) Math.max(1, o.bufferMemory() / o.recordSize());
    }

    byte[] stamped(long sendNanos, long index) {
        byte[] value = template.clone();
        ByteBuffer.wrap(value).putLong(0, sendNanos - ORIGIN).putLong(8, index);
        return value;
    }

    /**
     * N producers send {@code records} records as fast as the client takes them to {@code topic}, which must exist;
     * throughput to the last ack.
     */
    ScenarioResult produce(LoadClient client, String system, int run, String name, String topic, int acks,
                           int producers, int partitions, long records) throws Exception {
        ScenarioResult result = new ScenarioResult(name, system, run);
        Recorder ackLatency = new Recorder(3);
        AtomicLong acked = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        List<Sender> senders = new ArrayList<>();
        for (int i = 0; i < producers; i++) {
            senders.add(client.sender(settings(acks)));
        }
        try (Sampler sampler = new Sampler(result.series("acked records/s"), acked)) {
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                Sender sender = senders.get(p);
                long share = records / producers + (p < records % producers ? 1 : 0);
                Semaphore window = new Semaphore(maxOutstanding() / producers);
                Thread t = new Thread(() -> {
                    for (long i = 0; i < share; i++) {
                        window.acquireUninterruptibly();
                        long sent = System.nanoTime();
                        sender.send(topic, (int) (i % partitions), template, e -> {
                            ackLatency.recordValue(Math.max(0, (System.nanoTime() - sent) / 1000));
                            if (e != null) {
                                errors.incrementAndGet();
                                firstError.compareAndSet(null, e);
                            }
                            window.release();
                            if (acked.incrementAndGet() == records) {
                                done.countDown();
                            }
                        });
                    }
                }, "producer-" + p);
                t.start();
                threads.add(t);
            }
            boolean finished = done.await(o.timeoutSeconds(), TimeUnit.SECONDS);
            long elapsed = System.nanoTime() - start;
            for (Thread t : threads) {
                t.join(1000);
            }
            long count = acked.get();
            result.metric("records", count).metric("seconds", elapsed / 1e9)
                    .metric("records_per_s", count / (elapsed / 1e9))
                    .metric("mib_per_s", count * (double) o.recordSize() / (1 << 20) / (elapsed / 1e9))
                    .metric("errors", errors.get());
            result.latency("ack", ackLatency.getIntervalHistogram());
            if (!finished) {
                result.notes.put("timeout", "only " + count + " of " + records + " acknowledged");
            }
            if (firstError.get() != null) {
                result.notes.put("first_error", firstError.get().toString());
            }
        } finally {
            senders.forEach(Sender::close);
        }
        return result;
    }

    /**
     * One consumer reads the {@code records} records that are already in {@code topic} from the earliest offset,
     * {@code reads} times one after another (a new consumer each time), reported as one read of all of them.
     */
    ScenarioResult consume(LoadClient client, String system, int run, String scenario, String topic, int partitions,
                           long records, int reads) throws Exception {
        ScenarioResult result = new ScenarioResult(scenario, system, run);
        AtomicLong read = new AtomicLong();
        try (Sampler sampler = new Sampler(result.series("records read/s"), read)) {
            long start = System.nanoTime();
            for (int i = 1; i <= reads; i++) {
                // Counted per read too, so that a record a closed receiver still hands over cannot count for the next.
                AtomicLong readThisTime = new AtomicLong();
                CountDownLatch done = new CountDownLatch(1);
                Receiver receiver = client.receive(topic, partitions, v -> {
                    read.incrementAndGet();
                    if (readThisTime.incrementAndGet() == records) {
                        done.countDown();
                    }
                });
                boolean finished = done.await(o.timeoutSeconds(), TimeUnit.SECONDS);
                receiver.close();
                if (!finished) {
                    result.notes.put("timeout", "read " + i + " of " + reads + ": only " + readThisTime.get() + " of "
                            + records + " read");
                    break;
                }
            }
            long elapsed = System.nanoTime() - start;
            long count = Math.min(read.get(), records * reads);
            result.metric("records", count).metric("seconds", elapsed / 1e9)
                    .metric("records_per_s", count / (elapsed / 1e9))
                    .metric("mib_per_s", count * (double) o.recordSize() / (1 << 20) / (elapsed / 1e9));
            if (reads > 1) {
                result.metric("reads", reads);
            }
        }
        return result;
    }

    /**
     * One producer offers {@code rate} records/s on a fixed schedule while one consumer reads them. Latencies are
     * measured from each record's scheduled send time (so a stalled producer cannot hide its queueing: no coordinated
     * omission); the first {@code warmupSeconds} are left out.
     */
    ScenarioResult latencyAtRate(LoadClient client, String system, int run, String topic, int acks, int rate,
                                 int seconds, int warmupSeconds) throws Exception {
        client.createTopic(topic, 1);
        ScenarioResult result = new ScenarioResult("latency-" + rate + "/s", system, run);
        long total = (long) rate * (seconds + warmupSeconds);
        long warmup = (long) rate * warmupSeconds;
        Recorder produce = new Recorder(3);
        Recorder endToEnd = new Recorder(3);
        AtomicLong acked = new AtomicLong();
        AtomicLong read = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        Receiver receiver = client.receive(topic, 1, v -> {
            long now = System.nanoTime() - ORIGIN;
            ByteBuffer b = ByteBuffer.wrap(v);
            if (b.getLong(8) >= warmup) {
                endToEnd.recordValue(Math.max(0, (now - b.getLong(0)) / 1000));
            }
            read.incrementAndGet();
        });
        try (Sender sender = client.sender(settings(acks));
             Sampler sampler = new Sampler(result.series("acked records/s"), acked);
             Sampler readSampler = new Sampler(result.series("records read/s"), read)) {
            long start = System.nanoTime();
            long interval = 1_000_000_000L / rate;
            for (long i = 0; i < total; i++) {
                long due = start + i * interval;
                awaitSchedule(due);
                long index = i;
                sender.send(topic, 0, stamped(due, i), e -> {
                    if (e != null) {
                        errors.incrementAndGet();
                    } else if (index >= warmup) {
                        produce.recordValue(Math.max(0, (System.nanoTime() - due) / 1000));
                    }
                    acked.incrementAndGet();
                });
            }
            long sendSeconds = System.nanoTime() - start;
            boolean finished = awaitWritten(total, acked, errors, read);
            result.metric("offered_records_per_s", rate).metric("records", total)
                    .metric("achieved_send_records_per_s", total / (sendSeconds / 1e9)).metric("errors", errors.get());
            result.latency("produce", produce.getIntervalHistogram());
            result.latency("e2e", endToEnd.getIntervalHistogram());
            if (!finished) {
                result.notes.put("timeout", "only " + read.get() + " of " + total + " read");
            }
        } finally {
            receiver.close();
        }
        return result;
    }

    /**
     * Producers send {@code records} records as fast as they can while one consumer reads them: produce and
     * consume throughput at once, and end-to-end latency at full speed (from the actual send time).
     */
    ScenarioResult fullSpeed(LoadClient client, String system, int run, String name, String topic, int acks,
                             int producers, int partitions, long records) throws Exception {
        client.createTopic(topic, partitions);
        ScenarioResult result = new ScenarioResult(name, system, run);
        long warmup = records / 10;
        Recorder endToEnd = new Recorder(3);
        Recorder produce = new Recorder(3);
        AtomicLong acked = new AtomicLong();
        AtomicLong read = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        CountDownLatch allAcked = new CountDownLatch(1);
        Receiver receiver = client.receive(topic, partitions, v -> {
            long now = System.nanoTime() - ORIGIN;
            ByteBuffer b = ByteBuffer.wrap(v);
            if (b.getLong(8) >= warmup) {
                endToEnd.recordValue(Math.max(0, (now - b.getLong(0)) / 1000));
            }
            read.incrementAndGet();
        });
        List<Sender> senders = new ArrayList<>();
        for (int i = 0; i < producers; i++) {
            senders.add(client.sender(settings(acks)));
        }
        try (Sampler sampler = new Sampler(result.series("acked records/s"), acked);
             Sampler readSampler = new Sampler(result.series("records read/s"), read)) {
            long start = System.nanoTime();
            AtomicLong next = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                Sender sender = senders.get(p);
                Semaphore window = new Semaphore(maxOutstanding() / producers);
                Thread t = new Thread(() -> {
                    long i;
                    while ((i = next.getAndIncrement()) < records) {
                        window.acquireUninterruptibly();
                        long sent = System.nanoTime();
                        long index = i;
                        sender.send(topic, (int) (i % partitions), stamped(sent, i), e -> {
                            if (e != null) {
                                errors.incrementAndGet();
                            } else if (index >= warmup) {
                                produce.recordValue(Math.max(0, (System.nanoTime() - sent) / 1000));
                            }
                            window.release();
                            if (acked.incrementAndGet() == records) {
                                allAcked.countDown();
                            }
                        });
                    }
                }, "producer-" + p);
                t.start();
                threads.add(t);
            }
            boolean allAckedInTime = allAcked.await(o.timeoutSeconds(), TimeUnit.SECONDS);
            long produced = System.nanoTime() - start;
            boolean finished = awaitWritten(records, acked, errors, read);
            long consumed = System.nanoTime() - start;
            for (Thread t : threads) {
                t.join(1000);
            }
            result.metric("records", records)
                    .metric("produce_records_per_s", acked.get() / (produced / 1e9))
                    .metric("consume_records_per_s", read.get() / (consumed / 1e9))
                    .metric("errors", errors.get());
            result.latency("produce", produce.getIntervalHistogram());
            result.latency("e2e", endToEnd.getIntervalHistogram());
            if (!allAckedInTime || !finished) {
                result.notes.put("timeout", "acked " + acked.get() + ", read " + read.get() + " of " + records);
            }
        } finally {
            receiver.close();
            senders.forEach(Sender::close);
        }
        return result;
    }

    /**
     * Failover time: one idempotent acks=all producer offers {@code rate} records/s on a fixed schedule to partition 0
     * of a new topic (the client's replication factor and min.insync.replicas); after {@code beforeSeconds} the
     * partition's leader is SIGKILLed, and the schedule goes on for {@code afterSeconds}. Every record's ack time and
     * offset are kept. Figures, all from the kill:
     * <ul>
     *   <li>{@code failover_s}: to the ack of the first record sent after the kill (only a new leader can
     *       acknowledge it: the old one is gone and acks=all waits for the leader's answer); it includes draining
     *       the records still unacknowledged at the kill ({@code unacked_at_kill}), and {@code send_lag_at_kill_s}
     *       says how far the sending thread was behind the schedule (a client that blocks when its buffer is full);
     *   <li>{@code first_ack_after_gap_s} and {@code ack_gap_s}: to the ack that ends the longest pause between
     *       consecutive acks after the kill, and that pause (what the application saw);
     *   <li>errors, and acknowledged offsets that went backwards or repeated (idempotence and order across the
     *       failover; every acked record must have its own, increasing offset).
     * </ul>
     */
    ScenarioResult failover(BrokerUnderTest cluster, LoadClient client, int run, String topic, int rate,
                            int beforeSeconds, int afterSeconds) throws Exception {
        ScenarioResult result = new ScenarioResult("failover", cluster.system(), run);
        client.createTopic(topic, 1);
        awaitFullIsr(client, topic, cluster.nodes(), 60_000);
        int total = rate * (beforeSeconds + afterSeconds);
        long[] ackNanos = new long[total];
        long[] offsets = new long[total];
        long[] due = new long[total];
        AtomicLong acked = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        long interval = 1_000_000_000L / rate;
        int killIndex = rate * beforeSeconds;
        long killAt;
        int leader;
        OptionalInt controllerBefore;
        try (Sender sender = client.sender(settings(-1));
             Sampler sampler = new Sampler(result.series("acked records/s"), acked)) {
            long start = System.nanoTime();
            // Kills from this thread between two sends, so that the record schedule and the kill share one clock.
            leader = client.describe(topic, 0).leader().orElseThrow();
            controllerBefore = cluster.controller();
            killAt = Long.MAX_VALUE;
            for (int i = 0; i < total; i++) {
                due[i] = start + i * interval;
                if (i == Math.max(0, killIndex - rate)) {
                    // The leader again, a second before the kill: it may have moved since (it should not).
                    int now = client.describe(topic, 0).leader().orElseThrow();
                    if (now != leader) {
                        result.notes.put("leader_moved_before_kill", leader + " -> " + now);
                        leader = now;
                    }
                }
                if (i == killIndex) {
                    long wait = due[i] - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    killAt = cluster.kill(leader);
                }
                awaitSchedule(due[i]);
                int index = i;
                sender.sendWithOffset(topic, 0, stamped(due[i], i), (offset, e) -> {
                    ackNanos[index] = System.nanoTime();
                    offsets[index] = offset;
                    if (e != null) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e);
                    }
                    acked.incrementAndGet();
                });
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
            while (acked.get() < total && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        }
        // Callbacks wrote the arrays on client threads; the counter's volatile read above orders them before us.
        if (acked.get() < total) {
            result.notes.put("timeout", "only " + acked.get() + " of " + total + " answered");
        }
        // The kill happens on the sending thread just before record killIndex is handed to the producer, so that record
        // is the first one sent after the kill, even when the producer blocked the schedule (its buffer full) before.
        int firstAfter = killIndex;
        Integer[] byAck = new Integer[total];
        for (int i = 0; i < total; i++) {
            byAck[i] = i;
        }
        java.util.Arrays.sort(byAck, java.util.Comparator.comparingLong(i -> ackNanos[i] == 0 ? Long.MAX_VALUE
                : ackNanos[i]));
        long longestGap = 0;
        long gapEnd = 0;
        // The gap that the kill opens starts at the last ack before it.
        long previous = killAt;
        for (int i : byAck) {
            if (ackNanos[i] != 0 && ackNanos[i] <= killAt) {
                previous = ackNanos[i];
            }
        }
        for (int i : byAck) {
            long t = ackNanos[i];
            if (t == 0 || t < killAt) {
                continue;
            }
            if (t - previous > longestGap) {
                longestGap = t - previous;
                gapEnd = t;
            }
            previous = t;
        }
        long backwards = 0;
        long repeated = 0;
        long last = -1;
        for (int i = 0; i < total; i++) {
            if (offsets[i] < 0 || ackNanos[i] == 0) {
                continue;
            }
            if (offsets[i] == last) {
                repeated++;
            } else if (offsets[i] < last) {
                backwards++;
            }
            last = offsets[i];
        }
        // Whether the cluster kept up before the kill: a backlog of unacknowledged records delays the first record
        // sent after the kill by the time the backlog takes to drain, on top of the failover itself.
        long ackedBeforeKill = 0;
        long ackedInLastSecond = 0;
        for (int i = 0; i < total; i++) {
            if (ackNanos[i] != 0 && ackNanos[i] <= killAt) {
                ackedBeforeKill++;
                if (ackNanos[i] > killAt - 1_000_000_000L) {
                    ackedInLastSecond++;
                }
            }
        }
        result.metric("acked_per_s_last_second_before_kill", ackedInLastSecond)
                .metric("unacked_at_kill", firstAfter - ackedBeforeKill)
                .metric("send_lag_at_kill_s", (killAt - due[killIndex]) / 1e9);
        double failover = firstAfter < total && ackNanos[firstAfter] != 0 && offsets[firstAfter] >= 0
                ? (ackNanos[firstAfter] - killAt) / 1e9 : Double.NaN;
        result.metric("failover_s", failover)
                .metric("first_ack_after_gap_s", (gapEnd - killAt) / 1e9)
                .metric("ack_gap_s", longestGap / 1e9)
                .metric("records", total).metric("errors", errors.get())
                .metric("offsets_repeated", repeated).metric("offsets_backwards", backwards)
                .metric("killed_node", leader);
        result.notes.put("killed", "node " + leader + " (leader of " + topic + "-0); controller before the kill: "
                + describe(controllerBefore));
        try {
            LoadClient.PartitionState after = client.describe(topic, 0);
            result.notes.put("after", "leader " + (after.leader().isPresent() ? after.leader().getAsInt() : "none")
                    + ", ISR " + after.isr() + ", controller " + describe(cluster.controller()));
        } catch (Exception e) {
            result.notes.put("after", "describe failed: " + e);
        }
        if (firstError.get() != null) {
            result.notes.put("first_error", firstError.get().toString());
        }
        return result;
    }

    private static String describe(OptionalInt node) {
        return node.isPresent() ? "node " + node.getAsInt() : "unknown";
    }

    /**
     * Returns at {@code due} ({@link System#nanoTime()}): parks until 20 µs before it, then spins, so that a fixed
     * send schedule keeps its timing to within microseconds rather than a park's granularity.
     */
    static void awaitSchedule(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            if (wait > 20_000) {
                LockSupport.parkNanos(wait - 10_000);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** Waits until the partition's ISR holds all {@code replicas} (followers caught up), at most {@code timeoutMs}. */
    static void awaitFullIsr(LoadClient client, String topic, int replicas, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            LoadClient.PartitionState s;
            try {
                s = client.describe(topic, 0);
            } catch (Exception notYet) {
                s = null;
            }
            if (s != null && s.leader().isPresent() && s.isr().size() >= replicas) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(topic + "-0 has no full ISR within " + timeoutMs + " ms: " + s);
            }
            Thread.sleep(100);
        }
    }

    /**
     * Waits (at most the scenario timeout) until every record sent has been answered and every record written (acked
     * without error) has been read; false on timeout.
     */
    private boolean awaitWritten(long sent, AtomicLong acked, AtomicLong errors, AtomicLong read)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
        while (System.nanoTime() < deadline) {
            if (acked.get() >= sent && read.get() >= sent - errors.get()) {
                return true;
            }
            Thread.sleep(1);
        }
        return false;
    }

    /** Samples a counter every 250 ms into a [seconds, per-second rate] series. */
    static final class Sampler implements AutoCloseable {
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sampler");
            t.setDaemon(true);
            return t;
        });

        Sampler(List<double[]> into, AtomicLong counter) {
            long start = System.nanoTime();
            long[] last = {0, start};
            timer.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                long value = counter.get();
                double rate = (value - last[0]) / ((now - last[1]) / 1e9);
                last[0] = value;
                last[1] = now;
                synchronized (into) {
                    into.add(new double[] {(now - start) / 1e9, rate});
                }
            }, SAMPLE_MS, SAMPLE_MS, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }
}
