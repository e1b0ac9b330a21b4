package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ordering the socket tests rely on when they compare what a client received with what was produced. */
class InboxTest {

    @Test
    void takingWhileItemsArriveKeepsEveryItemInArrivalOrder() throws InterruptedException {
        int count = 20_000;
        Inbox<Integer> inbox = new Inbox<>("item", () -> false);
        Thread reader = new Thread(() -> {
            for (int i = 0; i < count; i++) {
                inbox.add(i);
            }
        });
        reader.start();
        List<Integer> taken = new ArrayList<>();
        for (int i = 0; i < count / 2; i++) {
            // only even items match: odd ones are looked at, skipped and must stay where they were
            taken.add(inbox.await(n -> n % 2 == 0, Duration.ofSeconds(30)));
        }
        reader.join();
        List<Integer> left = inbox.drain();

        assertThat(taken).hasSize(count / 2).isSorted();
        assertThat(left).hasSize(count / 2).isSorted().allMatch(n -> n % 2 == 1);
    }

    @Test
    void aWaitThatFindsNothingFailsAfterItsTimeoutNamingWhatCame() {
        Inbox<String> inbox = new Inbox<>("frame", () -> false);
        inbox.add("other");
        long start = System.nanoTime();
        try {
            inbox.await("wanted"::equals, Duration.ofMillis(200));
            throw new IllegalStateException("await returned without a match");
        } catch (AssertionError e) {
            assertThat(e).hasMessageContaining("No matching frame").hasMessageContaining("other");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(inbox.pending()).containsExactly("other");
    }
}
