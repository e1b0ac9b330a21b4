package io.millrace.http;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The newest {@code capacity} rate samples, oldest first: what a freshly opened dashboard draws at once.
 * Thread-safe: the stats pipeline adds, any HTTP event loop reads.
 */
final class RateHistory {

    private final int capacity;
    private final ArrayDeque<RateSample> samples;

    RateHistory(int capacity) {
        this.capacity = capacity;
        this.samples = new ArrayDeque<>(capacity);
    }

    synchronized void add(RateSample sample) {
        if (samples.size() == capacity) {
            samples.removeFirst();
        }
        samples.addLast(sample);
    }

    synchronized List<RateSample> snapshot() {
        return List.copyOf(samples);
    }
}
