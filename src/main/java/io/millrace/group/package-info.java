/**
 * Consumer groups: the pure, deterministic core of the group coordinator.
 *
 * <p>A consumer group is a set of members that share the partitions of the topics they subscribe to. The broker
 * decides who reads what ({@linkplain io.millrace.group.Assignor server-side assignment}), rebalances when members
 * join, leave or stop heart-beating and when partitions are added, fences stale members with a generation number,
 * and keeps each group's committed offset per partition durably in the internal topic
 * {@value io.millrace.group.OffsetsTopic#NAME} ({@link io.millrace.group.OffsetRecord} owns its format).
 *
 * <p>Nothing here uses Vert.x, threads or the clock directly: {@link io.millrace.group.GroupCoordinator} is a
 * single-threaded state machine driven through the interfaces this package declares ({@link
 * io.millrace.group.OffsetStore}, {@link io.millrace.group.Completion}, {@link io.millrace.group.HighWatermarks}) and
 * an injected {@link io.millrace.common.Time}, so the same code runs inside a verticle and inside a seeded
 * simulation test.
 */
package io.millrace.group;
