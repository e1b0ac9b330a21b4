package io.millrace.it;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.GroupOptions;
import io.millrace.client.GroupRecord;
import io.millrace.client.MillraceClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A group member in its own process, so that a test can SIGKILL it: {@code GroupMember <bootstrap> <topic> <group>
 * <strategy> <commitAfter>}. It prints {@code ASSIGNED <partitions>} after every assignment, reads records, and once
 * it has read {@code commitAfter} records (0: never) commits the position after the last one, prints
 * {@code COMMITTED <partition> <offset>}, and stops acknowledging: it then only heart-beats until killed.
 */
public final class GroupMember {

    private GroupMember() {
    }

    public static void main(String[] args) throws InterruptedException {
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        String strategy = args[3];
        int commitAfter = Integer.parseInt(args[4]);
        MillraceClient client = MillraceClient.create(ClientConfig.bootstrap(bootstrap).withClientId("member-process"));
        GroupOptions options = GroupOptions.defaults().withStrategy(strategy)
                .withSessionTimeout(Duration.ofMillis(2_000), Duration.ofMillis(300))
                .withRebalanceTimeout(Duration.ofSeconds(5))
                .withAutoCommit(Duration.ZERO)
                .withRebalanceListener(tps -> System.out.println("ASSIGNED " + tps), tps -> { });
        int[] read = {0};
        client.consumer(ConsumerConfig.defaults()).subscribe(List.of(topic), group, options)
                .receiveAcknowledgeable()
                .concatMap((GroupRecord r) -> {
                    read[0]++;
                    if (commitAfter > 0 && read[0] == commitAfter) {
                        return r.commit().doOnSuccess(v -> System.out.println("COMMITTED " + r.record().partition()
                                + " " + (r.record().offset() + 1))).thenReturn(r);
                    }
                    return reactor.core.publisher.Mono.just(r);
                })
                .subscribe(r -> { }, e -> {
                    System.out.println("FAILED " + e);
                    System.exit(2);
                });
        System.out.println("STARTED");
        new CountDownLatch(1).await();
    }
}
