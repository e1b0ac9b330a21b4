package io.millrace.it;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

/**
 * The test's own log of every acknowledged record, the oracle of the cluster tests: after failovers, what the
 * consumers read back must hold every acknowledged record exactly once, at the offset it was acknowledged with, in
 * offset order per partition. Records that were written but never acknowledged (in flight at a failover) may or may
 * not be read; they are counted, not judged.
 *
 * <p>An acknowledgement may carry offset -1: the SDK reports a batch as written with its offsets unknown when the
 * broker took a later batch of the same idempotent producer after answering this one with an error (as Kafka's
 * producer reports a duplicate). Such a record must still be read exactly once, at an offset no other acknowledged
 * record holds.
 *
 * <p>Thread-safe: any number of producer threads may {@link #acknowledged record} at once. {@link #check} compares
 * by (key, value), so give every produced record a unique value.
 */
public final class Oracle {

    /** A record as acknowledged by the broker, or as read back. {@code key} may be null. */
    public record Entry(TopicPartition partition, long offset, String key, String value) {
        public Entry {
            Objects.requireNonNull(partition, "partition");
            Objects.requireNonNull(value, "value");
        }

        public Entry(String topic, int partition, long offset, String key, String value) {
            this(new TopicPartition(topic, partition), offset, key, value);
        }

        Content content() {
            return new Content(key, value);
        }

        @Override
        public String toString() {
            return partition + "@" + offset + " " + key + "=" + value;
        }
    }

    private record Content(String key, String value) {
    }

    private final ConcurrentLinkedQueue<Entry> acknowledged = new ConcurrentLinkedQueue<>();

    /** Logs a record the broker acknowledged at {@code entry.offset()}. */
    public void acknowledged(Entry entry) {
        acknowledged.add(entry);
    }

    public void acknowledged(String topic, int partition, long offset, String key, String value) {
        acknowledged(new Entry(topic, partition, offset, key, value));
    }

    public int acknowledgedCount() {
        return acknowledged.size();
    }

    /** Every acknowledged record so far, per partition in offset order. */
    public Map<TopicPartition, List<Entry>> acknowledgedByPartition() {
        Map<TopicPartition, List<Entry>> out = new TreeMap<>(Oracle::compare);
        for (Entry e : acknowledged) {
            out.computeIfAbsent(e.partition(), p -> new ArrayList<>()).add(e);
        }
        out.values().forEach(list -> list.sort((a, b) -> Long.compare(a.offset(), b.offset())));
        return out;
    }

    /**
     * Compares what was read back, per partition in the order it was read, with every acknowledged record. A
     * partition with acknowledged records and no list of reads counts as read empty.
     */
    public Verdict check(Map<TopicPartition, List<Entry>> readBack) {
        List<String> lost = new ArrayList<>();
        List<String> duplicated = new ArrayList<>();
        List<String> outOfOrder = new ArrayList<>();
        List<String> conflicting = new ArrayList<>();
        int unacknowledgedRead = 0;
        Map<TopicPartition, List<Entry>> acked = acknowledgedByPartition();
        for (Map.Entry<TopicPartition, List<Entry>> partition : readBack.entrySet()) {
            List<Entry> reads = partition.getValue();
            for (int i = 1; i < reads.size(); i++) {
                if (reads.get(i).offset() <= reads.get(i - 1).offset()) {
                    outOfOrder.add(reads.get(i) + " read after " + reads.get(i - 1));
                }
            }
        }
        for (Map.Entry<TopicPartition, List<Entry>> partition : acked.entrySet()) {
            List<Entry> reads = readBack.getOrDefault(partition.getKey(), List.of());
            Map<Long, Entry> readAt = new HashMap<>();
            Map<Content, List<Entry>> readsOf = new HashMap<>();
            for (Entry r : reads) {
                readAt.putIfAbsent(r.offset(), r);
                readsOf.computeIfAbsent(r.content(), c -> new ArrayList<>()).add(r);
            }
            Map<Long, Entry> ackedAt = new HashMap<>();
            Map<Content, Entry> ackedWithoutOffset = new HashMap<>();
            for (Entry a : partition.getValue()) {
                if (a.offset() < 0) {
                    ackedWithoutOffset.put(a.content(), a);
                    continue;
                }
                Entry earlier = ackedAt.putIfAbsent(a.offset(), a);
                if (earlier != null) {
                    conflicting.add("two records acknowledged at one offset: " + earlier + " and " + a);
                }
            }
            for (Entry a : partition.getValue()) {
                List<Entry> copies = readsOf.getOrDefault(a.content(), List.of());
                Entry atOffset = a.offset() < 0 ? null : readAt.get(a.offset());
                if (copies.isEmpty()) {
                    lost.add(a + (a.offset() < 0 || atOffset == null ? " (offset not read)"
                            : " (read " + atOffset + " there)"));
                } else if (copies.size() > 1) {
                    duplicated.add(a + " read " + copies.size() + " times: " + copies);
                } else if (a.offset() >= 0 && copies.get(0).offset() != a.offset()) {
                    conflicting.add(a + " read at offset " + copies.get(0).offset());
                } else if (a.offset() < 0 && ackedAt.containsKey(copies.get(0).offset())) {
                    conflicting.add(a + " read at offset " + copies.get(0).offset() + ", acknowledged for "
                            + ackedAt.get(copies.get(0).offset()));
                }
            }
            unacknowledgedRead += (int) reads.stream().filter(r -> !ackedAt.containsKey(r.offset())
                    && !ackedWithoutOffset.containsKey(r.content())).count();
        }
        for (Map.Entry<TopicPartition, List<Entry>> partition : readBack.entrySet()) {
            if (!acked.containsKey(partition.getKey())) {
                unacknowledgedRead += partition.getValue().size();
            }
        }
        return new Verdict(acknowledged.size(), lost, duplicated, outOfOrder, conflicting, unacknowledgedRead);
    }

    /** {@link #check}, failing with every problem when one acknowledged record was not read exactly once in order. */
    public Verdict assertEveryAcknowledgedRecordReadOnce(Map<TopicPartition, List<Entry>> readBack) {
        Verdict verdict = check(readBack);
        if (!verdict.passed()) {
            throw new AssertionError(verdict.toString());
        }
        return verdict;
    }

    /**
     * What {@link #check} found. {@code lost}: acknowledged, never read; {@code duplicated}: read more than once;
     * {@code outOfOrder}: a partition read with offsets not increasing; {@code conflicting}: read at another offset
     * than acknowledged, or two acknowledgements of one offset. {@code unacknowledgedRead} is information only.
     */
    public record Verdict(int acknowledged, List<String> lost, List<String> duplicated, List<String> outOfOrder,
                          List<String> conflicting, int unacknowledgedRead) {

        private static final int SHOWN = 20;

        public boolean passed() {
            return lost.isEmpty() && duplicated.isEmpty() && outOfOrder.isEmpty() && conflicting.isEmpty();
        }

        @Override
        public String toString() {
            return acknowledged + " acknowledged records: " + lost.size() + " lost, " + duplicated.size()
                    + " duplicated, " + outOfOrder.size() + " out of order, " + conflicting.size() + " conflicting; "
                    + unacknowledgedRead + " unacknowledged records read" + sample("lost", lost)
                    + sample("duplicated", duplicated) + sample("out of order", outOfOrder)
                    + sample("conflicting", conflicting);
        }

        private static String sample(String what, List<String> items) {
            if (items.isEmpty()) {
                return "";
            }
            return "\n" + what + " (first " + Math.min(SHOWN, items.size()) + "):\n  "
                    + items.stream().limit(SHOWN).collect(Collectors.joining("\n  "));
        }
    }

    private static int compare(TopicPartition a, TopicPartition b) {
        int byTopic = a.topic().compareTo(b.topic());
        return byTopic != 0 ? byTopic : Integer.compare(a.partition(), b.partition());
    }
}
