package io.millrace.group;

/**
 * How members hand partitions over from one generation to the next.
 */
public enum RebalanceProtocol {
    /**
     * A member gives up all its partitions (after committing) before it rejoins, so the next generation may hand any
     * partition to anyone: everyone who could still own one has rejoined or has been removed. Simple, but every
     * rebalance stops the whole group.
     */
    EAGER,
    /**
     * A member keeps its partitions while it rejoins. A partition that must change owner is first only revoked from
     * its old owner in one generation and given to its new owner in a later generation, after the old owner has
     * rejoined (confirming it stopped reading and committed). So no partition has two owners at once, and members
     * keep reading everything that does not move.
     */
    COOPERATIVE
}
