package io.millrace.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionsPerAddressTest {

    @Test
    void anAddressGetsItsMaximumThenAgainOnceOneCloses() {
        ConnectionsPerAddress open = new ConnectionsPerAddress(2);

        assertThat(open.tryOpen("10.0.0.1")).isTrue();
        assertThat(open.tryOpen("10.0.0.1")).isTrue();
        assertThat(open.tryOpen("10.0.0.1")).isFalse();
        assertThat(open.tryOpen("10.0.0.2")).as("other addresses count apart").isTrue();

        open.closed("10.0.0.1");
        assertThat(open.tryOpen("10.0.0.1")).isTrue();
        assertThat(open.tryOpen("10.0.0.1")).isFalse();
    }

    @Test
    void anAddressWhoseConnectionsAllClosedStartsAfresh() {
        ConnectionsPerAddress open = new ConnectionsPerAddress(1);
        assertThat(open.tryOpen("10.0.0.1")).isTrue();
        open.closed("10.0.0.1");
        open.closed("10.0.0.1"); // a second close of nothing must not leave a negative count behind

        assertThat(open.tryOpen("10.0.0.1")).isTrue();
        assertThat(open.tryOpen("10.0.0.1")).isFalse();
    }

    @Test
    void threadsRacingForTheLastPlacesGetExactlyTheMaximum() throws Exception {
        ConnectionsPerAddress open = new ConnectionsPerAddress(100);
        AtomicInteger counted = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                tasks.add(threads.submit(() -> {
                    for (int i = 0; i < 1000; i++) {
                        if (open.tryOpen("10.0.0.1")) {
                            counted.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> task : tasks) {
                task.get(10, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(counted).hasValue(100);
    }

    @Test
    void aLimitBelowOneIsRefused() {
        assertThatThrownBy(() -> new ConnectionsPerAddress(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
