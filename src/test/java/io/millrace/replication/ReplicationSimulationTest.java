package io.millrace.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Item 7 of issue 12: a seeded simulation of the replication core ({@link LeaderState}, {@link Divergence}) with
 * crashes at random steps, checking that acknowledged records are never lost, that replicas never diverge below
 * their high watermarks, that no high watermark moves back, and that healed replicas end identical. The model is
 * {@link SimulatedCluster}; each seed replays exactly.
 *
 * <p>{@code -Dsim.seeds=100000} runs more seeds (default 5000), {@code -Dsim.firstSeed=N} moves the range,
 * {@code -Dsim.seed=N} runs one seed with its event trace printed.
 */
class ReplicationSimulationTest {

    private static final int DEFAULT_SEEDS = 5_000;

    @Test
    void manySeeds() {
        String single = System.getProperty("sim.seed");
        if (single != null) {
            runSeed(Long.parseLong(single), true);
            return;
        }
        long first = Long.getLong("sim.firstSeed", 1);
        long seeds = Long.getLong("sim.seeds", DEFAULT_SEEDS);
        long acknowledged = 0;
        long elections = 0;
        long isrChanges = 0;
        for (long seed = first; seed < first + seeds; seed++) {
            SimulatedCluster cluster = runSeed(seed, false);
            acknowledged += cluster.acknowledgedCount();
            elections += cluster.leaderElections();
            isrChanges += cluster.isrChanges();
        }
        System.out.printf("ReplicationSimulationTest: %d seeds from %d, %d acknowledged records, %d elections,"
                + " %d ISR changes%n", seeds, first, acknowledged, elections, isrChanges);
        // The simulation must actually exercise what it checks.
        assertThat(acknowledged).isGreaterThan(seeds);
        assertThat(elections).isGreaterThan(seeds / 2);
        assertThat(isrChanges).isGreaterThan(seeds);
    }

    /**
     * Seeds that catch a known defect, run on their own so that a smaller {@code -Dsim.seeds} keeps them. Each was
     * checked to fail with its defect put back into the core, for this version of {@link SimulatedCluster} (a change
     * to the model's use of randomness reshuffles what a seed does; then find new ones the same way):
     * <ul>
     *   <li>4420: {@link LeaderState#onFollowerFetch} judging an ISR expansion against a high watermark not yet
     *       recomputed (after an aborted expansion), so a restarted follower joined the ISR below records
     *       acknowledged at once without it. Found by this simulation (first as seed 1526); fixed in the core.</li>
     *   <li>4493: expansion without the epoch start offset rule: a follower at a new leader's lagging high
     *       watermark joins the ISR without records the previous leader acknowledged.</li>
     *   <li>1066: the plan's follower rule for an epoch the follower does not know ({@code min(leader end, log
     *       end)}) instead of truncating everything: a replica that led an epoch from an empty log keeps divergent
     *       records and never catches up.</li>
     * </ul>
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {4420, 4493, 1066})
    void regressionSeeds(long seed) {
        runSeed(seed, false);
    }

    private static SimulatedCluster runSeed(long seed, boolean printTrace) {
        SimulatedCluster cluster = new SimulatedCluster(seed, printTrace);
        try {
            cluster.run();
            cluster.healAndQuiesce();
        } catch (RuntimeException | AssertionError failure) {
            SimulatedCluster traced = new SimulatedCluster(seed, true);
            try {
                traced.run();
                traced.healAndQuiesce();
            } catch (RuntimeException | AssertionError replayed) {
                // expected: the same failure, now with its trace
            }
            throw new AssertionError("Replication simulation failed for seed " + seed + " (rerun with -Dsim.seed="
                    + seed + "): " + failure.getMessage() + "\nLast events:\n" + traced.trace(), failure);
        }
        if (printTrace) {
            System.out.println(cluster.trace());
        }
        return cluster;
    }
}
