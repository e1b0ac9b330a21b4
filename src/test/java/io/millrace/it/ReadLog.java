package io.millrace.it;

import static org.awaitility.Awaitility.await;

import io.millrace.client.ConsumerRecord;
import io.millrace.common.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What a consumer read, per partition in the order it arrived, in the {@link Oracle}'s terms; plus how its stream
 * ended (it must not end while the test reads). Thread-safe: a consumer's callbacks may come from several threads.
 */
final class ReadLog {

    private final Map<TopicPartition, List<Oracle.Entry>> reads = new ConcurrentHashMap<>();
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    private volatile boolean completed;

    void add(ConsumerRecord r) {
        reads.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), tp -> new ArrayList<>());
        List<Oracle.Entry> list = reads.get(new TopicPartition(r.topic(), r.partition()));
        synchronized (list) {
            list.add(new Oracle.Entry(r.topic(), r.partition(), r.offset(), r.keyAsString(), r.valueAsString()));
        }
    }

    void failed(Throwable t) {
        error.compareAndSet(null, t);
    }

    void completed() {
        completed = true;
    }

    Throwable error() {
        return error.get();
    }

    boolean isCompleted() {
        return completed;
    }

    /** A copy of everything read so far. */
    Map<TopicPartition, List<Oracle.Entry>> snapshot() {
        Map<TopicPartition, List<Oracle.Entry>> out = new TreeMap<>((a, b) -> a.topic().equals(b.topic())
                ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()));
        reads.forEach((tp, list) -> {
            synchronized (list) {
                out.put(tp, new ArrayList<>(list));
            }
        });
        return out;
    }

    int size() {
        return snapshot().values().stream().mapToInt(List::size).sum();
    }

    /** Whether every acknowledged record has been read at least once (by value, in its partition). */
    boolean holdsEvery(Oracle oracle) {
        return missing(oracle).isEmpty();
    }

    /** The acknowledged records not read so far (by value, in their partition). */
    List<Oracle.Entry> missing(Oracle oracle) {
        Map<TopicPartition, List<Oracle.Entry>> read = snapshot();
        List<Oracle.Entry> out = new ArrayList<>();
        oracle.acknowledgedByPartition().forEach((tp, acked) -> {
            Set<String> values = read.getOrDefault(tp, List.of()).stream().map(Oracle.Entry::value)
                    .collect(Collectors.toCollection(HashSet::new));
            acked.stream().filter(a -> !values.contains(a.value())).forEach(out::add);
        });
        return out;
    }

    /**
     * At-least-once reads (a group member may read a record again after a rebalance): every record read at an offset
     * must be the one acknowledged there, if one was. Returns what does not match.
     */
    List<String> conflicts(Oracle oracle) {
        List<String> out = new ArrayList<>();
        Map<TopicPartition, List<Oracle.Entry>> acked = oracle.acknowledgedByPartition();
        snapshot().forEach((tp, list) -> {
            Map<Long, Oracle.Entry> at = new java.util.HashMap<>();
            acked.getOrDefault(tp, List.of()).forEach(e -> at.put(e.offset(), e));
            for (Oracle.Entry r : list) {
                Oracle.Entry a = at.get(r.offset());
                if (a != null && !a.value().equals(r.value())) {
                    out.add("read " + r + " where " + a + " was acknowledged");
                }
            }
        });
        return out;
    }

    /** Per partition: records read, last offset read, records acknowledged and the last acknowledged offset. */
    String progress(Oracle oracle) {
        Map<TopicPartition, List<Oracle.Entry>> read = snapshot();
        StringBuilder out = new StringBuilder();
        oracle.acknowledgedByPartition().forEach((tp, acked) -> {
            List<Oracle.Entry> r = read.getOrDefault(tp, List.of());
            out.append(String.format("%n  %s: read %d (last offset %d), acknowledged %d (last offset %d)", tp,
                    r.size(), r.isEmpty() ? -1 : r.get(r.size() - 1).offset(), acked.size(),
                    acked.get(acked.size() - 1).offset()));
        });
        return out.toString();
    }

    /**
     * Waits until every acknowledged record has been read (or the stream failed); on time-out fails with each
     * partition's {@link #progress} and {@code state} (say, the partitions' leaders as the brokers see them).
     */
    void awaitEvery(Oracle oracle, Duration atMost, String what, Supplier<String> state) {
        try {
            await().alias(what).atMost(atMost).pollInterval(Duration.ofMillis(200))
                    .until(() -> holdsEvery(oracle) || error() != null);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(what + ": not done within " + atMost + ":" + progress(oracle) + "\n"
                    + state.get(), e);
        }
    }

    /**
     * {@link #awaitEvery}, then asserts what a reader that ran through a disturbance must show: its stream neither
     * failed nor ended, no acknowledged record is missing and none was read at another offset (duplicates allowed: a
     * group member may read again what it had not committed).
     */
    void assertReadEvery(Oracle oracle, Duration atMost, String what, Supplier<String> state) {
        awaitEvery(oracle, atMost, what, state);
        org.assertj.core.api.Assertions.assertThat(error()).as(what + ": the stream failed").isNull();
        org.assertj.core.api.Assertions.assertThat(isCompleted()).as(what + ": the stream ended").isFalse();
        org.assertj.core.api.Assertions.assertThat(missing(oracle)).as(what + ": acknowledged records never read")
                .isEmpty();
        org.assertj.core.api.Assertions.assertThat(conflicts(oracle)).as(what + ": records at another offset")
                .isEmpty();
    }
}
