package io.millrace.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ManualTime;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The throttle as followers use it: wait {@code delayMs}, fetch at most {@code fetchBytes}, record what came. Followers
 * that always get all they ask for copy no faster than the rate (plus the one-second burst), and not much slower.
 */
class ReplicationThrottleTest {

    private static final int FETCH_MAX = 1024 * 1024;

    /** Runs {@code followers} followers sharing one throttle for {@code seconds} of fake time; returns bytes copied. */
    private static long copy(long rate, int followers, int seconds, int batchBytes) {
        ManualTime time = new ManualTime();
        ReplicationThrottle throttle = new ReplicationThrottle(rate, time);
        long[] nextFetchAt = new long[followers];
        long end = (long) seconds * 1000;
        long now = 0;
        long copied = 0;
        while (true) {
            int next = 0;
            for (int f = 1; f < followers; f++) {
                if (nextFetchAt[f] < nextFetchAt[next]) {
                    next = f;
                }
            }
            if (nextFetchAt[next] >= end) {
                return copied;
            }
            time.sleep(nextFetchAt[next] - now);
            now = nextFetchAt[next];
            long delay = throttle.delayMs();
            if (delay > 0) {
                nextFetchAt[next] = now + delay;
                continue;
            }
            // A leader answers at least one whole batch, however small the request.
            long got = Math.max(batchBytes, throttle.fetchBytes(FETCH_MAX) / batchBytes * batchBytes);
            throttle.record(got);
            copied += got;
            nextFetchAt[next] = now + 1; // the round trip
        }
    }

    @ParameterizedTest(name = "{0} B/s, {1} followers, batches of {2} B")
    @CsvSource({"1048576, 1, 16384", "1048576, 8, 16384", "100000, 3, 1000", "5000000, 4, 65536",
            "20000, 2, 65536"})
    void followersTogetherCopyAtTheRate(long rate, int followers, int batchBytes) {
        int seconds = 60;
        long copied = copy(rate, followers, seconds, batchBytes);
        // Each follower may overdraw the bucket by the one fetch it sends while the bucket is not in debt.
        long oneFetch = Math.max(batchBytes, Math.min(FETCH_MAX, rate));
        long burst = rate + (long) followers * oneFetch;
        assertThat(copied).as("at most the rate, plus the first second's bucket and a fetch per follower")
                .isLessThanOrEqualTo(rate * seconds + burst);
        if (batchBytes <= rate) {
            assertThat(copied).as("and not far below it").isGreaterThanOrEqualTo(rate * seconds * 9 / 10);
        }
    }

    @Test
    void unlimitedNeverWaitsAndAsksForAll() {
        ManualTime time = new ManualTime();
        ReplicationThrottle throttle = new ReplicationThrottle(0, time);
        throttle.record(Long.MAX_VALUE / 2);
        assertThat(throttle.delayMs()).isZero();
        assertThat(throttle.fetchBytes(FETCH_MAX)).isEqualTo(FETCH_MAX);
        assertThat(throttle.limited()).isFalse();
    }

    @Test
    void aDebtIsPaidOffAtTheRate() {
        ManualTime time = new ManualTime();
        ReplicationThrottle throttle = new ReplicationThrottle(1000, time);
        throttle.record(3000);
        assertThat(throttle.delayMs()).as("1000 in the bucket, 3000 taken: 2 s of debt").isEqualTo(2000);
        time.sleep(1500);
        assertThat(throttle.delayMs()).isEqualTo(500);
        time.sleep(3_600_000);
        assertThat(throttle.delayMs()).isZero();
        throttle.record(1000);
        assertThat(throttle.delayMs()).as("an idle hour fills the bucket to one second, no more").isZero();
        throttle.record(1);
        assertThat(throttle.delayMs()).isEqualTo(1);
    }

    @Test
    void aNegativeRateIsRefused() {
        assertThatThrownBy(() -> new ReplicationThrottle(-1, new ManualTime()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
