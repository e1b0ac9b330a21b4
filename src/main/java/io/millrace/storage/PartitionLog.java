package io.millrace.storage;

import io.millrace.common.EpochEndOffset;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.record.CorruptRecordException;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.TimestampRange;
import io.millrace.record.TimestampType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable, append-only log of one partition: a directory of {@link LogSegment}s, each covering a dense range of
 * offsets, the newest of them (the active segment) taking appends.
 *
 * <h2>Files in the directory</h2>
 * <ul>
 *   <li>{@code <20-digit base offset>.log}, {@code .index}, {@code .timeindex}: one segment (see {@link LogSegment},
 *   {@link OffsetIndex}, {@link TimeIndex}).</li>
 *   <li>{@code recovery-checkpoint}: text, {@code "1\n<offset>\n"} (format version, then an offset). Every segment
 *   below that offset was fsynced whole, so after a crash only segments from there on are validated. Replaced
 *   atomically (write a temporary file, rename).</li>
 *   <li>{@code producer-state.snapshot}: idempotent-producer state (see {@link ProducerStateManager}), written at
 *   each roll and at close; after a crash the batch headers since it are replayed.</li>
 *   <li>{@code leader-epoch-checkpoint}: which leader epoch wrote from which offset (see {@link LeaderEpochCache});
 *   rewritten whenever that changes, rebuilt from the batch headers when missing or unreadable.</li>
 *   <li>{@code high-watermark-checkpoint}: text, {@code "0\n<offset>\n"}, the last high watermark the owner
 *   persisted with {@link #checkpointHighWatermark}; read at open ({@link #checkpointedHighWatermark()}).</li>
 *   <li>{@code clean-shutdown}: present only while the log is closed after a clean {@link #close()}; opening deletes
 *   it, so a crash while open is always detected.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * Not thread-safe. One owner (the partition verticle's context) calls every method, and must not block its event
 * loop with {@link #open} or {@link #close()}; run those on a worker. fsync never runs on the owner's thread: it runs
 * on the {@code flushExecutor} given to {@link #open}, concurrently with appends, through {@link #flushAsync()} and
 * the flush policy in {@link #maybeFlush()}. The one exception to the single owner is
 * {@link #checkpointHighWatermark}, which blocks on fsync and so is meant to run elsewhere; it touches only its file.
 * The {@link LogSlice}s a read returns may be read on any thread.
 *
 * <h2>Open files</h2>
 * The segments' files count in the {@link OpenFileBudget} given to {@link #open}, shared by every log of the broker:
 * a segment nobody has used for a while, the active one included, may have its files closed by another log's thread
 * and reopens them on its next use. That costs the log nothing it relies on: offsets, sizes and index entry counts
 * stay in memory, slices stay valid, and a flush reopens a closed segment whose writes were not forced yet.
 */
public final class PartitionLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionLog.class);
    private static final Pattern SEGMENT_FILE = Pattern.compile("(\\d{20})\\.log");
    static final String CLEAN_SHUTDOWN_FILE = "clean-shutdown";
    static final String RECOVERY_CHECKPOINT_FILE = "recovery-checkpoint";
    static final String HIGH_WATERMARK_FILE = "high-watermark-checkpoint";
    private static final int CHECKPOINT_VERSION = 1;
    private static final int HIGH_WATERMARK_VERSION = 0;

    private final Path dir;
    private final Time time;
    private final Executor flushExecutor;
    /** The broker's bound on open segment files, shared with every other log of the process. */
    private final OpenFileBudget openFiles;
    private final ConcurrentSkipListMap<Long, LogSegment> segments;
    private final RecoveryReport recoveryReport;
    /** Every offset below this is on disk. Written by flush threads, read by the owner. */
    private final AtomicLong flushedOffset;
    /** Base offset of the oldest segment not yet known fully flushed: the last checkpoint written. */
    private long checkpointedOffset;
    /** Counts truncations, so that a flush that started before one does not advance the checkpoint after it. */
    private long truncations;

    private final ProducerStateManager producerState;
    private LogConfig config;
    /** Volatile: the flush thread reads it to decide which segments need their indexes forced. */
    private volatile LogSegment active;
    private long logEndOffset;
    private long lastFlushStartMs;
    private CompletableFuture<Long> flushInFlight = CompletableFuture.completedFuture(0L);
    private boolean closed;
    private final LeaderEpochCache epochs;
    /** The high watermark found on disk at open, within the log. */
    private final long checkpointedHighWatermark;
    /** Serialises {@link #checkpointHighWatermark} calls, which may come from any thread. */
    private final Object highWatermarkLock = new Object();
    /** Guarded by {@link #highWatermarkLock}: the value in the file, so that an unchanged one is not rewritten. */
    private long highWatermarkOnDisk = -1;

    private PartitionLog(Path dir, LogConfig config, Time time, Executor flushExecutor, OpenFileBudget openFiles,
                         ConcurrentSkipListMap<Long, LogSegment> segments, RecoveryReport report, long checkpoint) {
        this.dir = dir;
        this.config = config;
        this.time = time;
        this.flushExecutor = flushExecutor;
        this.openFiles = openFiles;
        this.segments = segments;
        this.recoveryReport = report;
        this.active = segments.lastEntry().getValue();
        this.logEndOffset = active.nextOffset();
        this.flushedOffset = new AtomicLong(logEndOffset);
        this.checkpointedOffset = checkpoint;
        this.lastFlushStartMs = time.milliseconds();
        this.producerState = new ProducerStateManager(config.maxProducerStates());
        rebuildProducerState();
        this.epochs = LeaderEpochCache.load(dir).orElseGet(this::rebuildEpochCache);
        // Recovery may have cut the tail those epochs started in (the cache is written before the batches it
        // describes); an epoch that starts exactly at the end wrote nothing that survived, so it goes too, as Kafka.
        epochs.truncateFromEnd(logEndOffset);
        epochs.truncateFromStart(logStartOffset());
        this.checkpointedHighWatermark = Math.max(logStartOffset(),
                Math.min(logEndOffset, readHighWatermark(dir).orElse(0L)));
    }

    /**
     * The epoch cache of a log that has no readable {@value LeaderEpochCache#FILE} (written before it existed, or
     * damaged): the epoch stamped in each batch header, where it grows. Reads every batch header once.
     */
    private LeaderEpochCache rebuildEpochCache() {
        List<LeaderEpochCache.EpochEntry> starts = new ArrayList<>();
        int[] latest = {EpochEndOffset.UNDEFINED_EPOCH};
        try {
            for (LogSegment segment : segments.values()) {
                segment.forEachBatch(segment.baseOffset(), header -> {
                    if (header.partitionLeaderEpoch() > latest[0]) {
                        latest[0] = header.partitionLeaderEpoch();
                        starts.add(new LeaderEpochCache.EpochEntry(header.partitionLeaderEpoch(),
                                header.baseOffset()));
                    }
                });
            }
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot rebuild the leader epochs of " + dir, e);
        }
        if (!starts.isEmpty()) {
            LOG.info("Rebuilt the leader epoch cache of {} from its batches: {}", dir, starts);
        }
        return LeaderEpochCache.rebuilt(dir, starts);
    }

    /**
     * Loads the producer-state snapshot and replays the batch headers written after it (all of them when there is
     * no usable snapshot), so idempotent producers keep their sequence checks across restarts and crashes; then
     * forgets the producers that expired meanwhile.
     */
    private void rebuildProducerState() {
        long now = time.milliseconds();
        Optional<Long> snapshot = producerState.loadSnapshot(dir);
        long from = snapshot.orElse(logStartOffset());
        if (from > logEndOffset) {
            // The log lost its tail in recovery: the snapshot describes batches that are gone.
            producerState.clear();
            from = logStartOffset();
        }
        from = Math.max(from, logStartOffset());
        try {
            for (LogSegment segment : segments.tailMap(segments.floorKey(from)).values()) {
                segment.forEachBatch(from, header -> {
                    if (header.hasProducer()) {
                        // The log keeps no append time; the batch's own time is the best it tells, if not ahead.
                        producerState.update(header.producerId(), header.producerEpoch(), header.baseSequence(),
                                header.lastSequence(), header.baseOffset(), header.lastOffset(),
                                Math.min(header.maxTimestamp(), now));
                    }
                });
            }
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot rebuild producer state of " + dir, e);
        }
        producerState.expire(now, config.producerIdExpirationMs());
    }

    /**
     * Opens the log in {@code dir}, creating it if needed. After a clean shutdown this reads only index tails; after
     * a crash it validates every segment from the recovery checkpoint on, keeps exactly the longest valid prefix of
     * the log, rebuilds the indexes it touched, and fsyncs what it kept. Blocking: call it off the event loop.
     *
     * @param flushExecutor where fsyncs run; it must not be an event loop
     */
    public static PartitionLog open(Path dir, LogConfig config, Time time, Executor flushExecutor) {
        return open(dir, config, time, flushExecutor, OpenFileBudget.unlimited());
    }

    /**
     * Opens the log as {@link #open(Path, LogConfig, Time, Executor)} does, its segment files counting in
     * {@code openFiles}, the budget every log of the broker shares: a segment's files are open only while it is in
     * use or recently used.
     */
    public static PartitionLog open(Path dir, LogConfig config, Time time, Executor flushExecutor,
                                    OpenFileBudget openFiles) {
        try {
            Files.createDirectories(dir);
            deleteLeftovers(dir);
            Path cleanMarker = dir.resolve(CLEAN_SHUTDOWN_FILE);
            boolean clean = Files.deleteIfExists(cleanMarker);
            if (clean) {
                DurableFiles.fsyncDirectory(dir);
            }
            long checkpoint = clean ? Long.MAX_VALUE : readCheckpoint(dir).orElse(0L);
            ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
            List<Long> recovered = new ArrayList<>();
            List<Long> deleted = new ArrayList<>();
            long truncated = 0;
            TreeMap<Long, Path> onDisk = listSegments(dir);
            long expectedBase = onDisk.isEmpty() ? 0 : onDisk.firstKey();
            boolean cut = false;
            LogSegment previous = null;
            for (Map.Entry<Long, Path> file : onDisk.entrySet()) {
                long base = file.getKey();
                if (cut || base != expectedBase) {
                    // Everything after a cut or a gap would leave a hole in the offsets: the valid prefix ends here.
                    deleteSegmentFiles(dir, base);
                    deleted.add(base);
                    cut = true;
                    continue;
                }
                if (previous != null) {
                    // Now, while its files are likely still open: later the budget may have closed them.
                    previous.becomeInactive();
                }
                boolean isLast = base == onDisk.lastKey();
                boolean validate = !clean && (base >= checkpoint || isLast);
                LogSegment.Opened opened = LogSegment.open(dir, base, config, validate, openFiles);
                previous = opened.segment();
                if (opened.recovered()) {
                    recovered.add(base);
                }
                truncated += opened.bytesTruncated();
                cut = opened.bytesTruncated() > 0;
                segments.put(base, opened.segment());
                expectedBase = opened.segment().nextOffset();
            }
            if (segments.isEmpty()) {
                segments.put(0L, LogSegment.create(dir, 0, config, openFiles));
            }
            LogSegment last = segments.lastEntry().getValue();
            last.becomeActive();
            if (!recovered.isEmpty() || !deleted.isEmpty()) {
                // What recovery kept may exist only in the page cache of a process that died: persist it before
                // the checkpoint claims it.
                segments.values().forEach(LogSegment::flush);
                DurableFiles.fsyncDirectory(dir);
            }
            writeCheckpoint(dir, last.baseOffset());
            RecoveryReport report = new RecoveryReport(clean, recovered, truncated, deleted);
            if (report.lostData()) {
                LOG.warn("Recovered log {}: cut {} bytes of invalid data and dropped segments {}; log end offset is {}",
                        dir, truncated, deleted, last.nextOffset());
            } else if (!clean && !onDisk.isEmpty()) {
                LOG.info("Recovered log {} after an unclean shutdown: validated segments {}, nothing lost", dir,
                        recovered);
            }
            return new PartitionLog(dir, config, time, flushExecutor, openFiles, segments, report,
                    last.baseOffset());
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot open log " + dir + ": " + e.getMessage(), e);
        }
    }

    /** What opening the log found and repaired. */
    public RecoveryReport recoveryReport() {
        return recoveryReport;
    }

    public Path dir() {
        return dir;
    }

    public LogConfig config() {
        return config;
    }

    /** Applies a new config (retention, flush and roll policies) from the next operation on. */
    public void updateConfig(LogConfig newConfig) {
        this.config = newConfig;
    }

    /** The first offset still in the log. */
    public long logStartOffset() {
        return segments.firstKey();
    }

    /** The offset the next record appended will get. */
    public long logEndOffset() {
        return logEndOffset;
    }

    /** Every offset below this one is known to be on disk. */
    public long flushedOffset() {
        return flushedOffset.get();
    }

    /** Bytes of the log on disk, indexes excluded. */
    public long size() {
        long total = 0;
        for (LogSegment segment : segments.values()) {
            total += segment.size();
        }
        return total;
    }

    public int segmentCount() {
        return segments.size();
    }

    /** The largest leader epoch that wrote to (or, as leader, started at the end of) this log; -1 if none. */
    public int latestEpoch() {
        return epochs.latestEpoch();
    }

    /**
     * Where {@code epoch} ended in this log (Kafka's OffsetsForLeaderEpoch answer); see
     * {@link LeaderEpochCache#endOffsetFor} for the rules.
     */
    public EpochEndOffset endOffsetForEpoch(int epoch) {
        return epochs.endOffsetFor(epoch, logEndOffset);
    }

    /** The leader epoch cache's entries, oldest first: which epoch wrote from which offset on. */
    public List<LeaderEpochCache.EpochEntry> epochEntries() {
        return epochs.entries();
    }

    /**
     * Records that {@code epoch} starts at {@code startOffset}: a replica that becomes leader calls it with its log
     * end offset before appending, so its epoch is known even before it writes (Kafka's makeLeader). Ignored unless
     * {@code epoch} is above the latest one (see {@link LeaderEpochCache#assign}); persisted at once.
     *
     * @throws IllegalArgumentException if {@code startOffset} is beyond the log end or either value is negative
     */
    public void assignEpochStartOffset(int epoch, long startOffset) {
        ensureOpen();
        if (startOffset > logEndOffset) {
            throw new IllegalArgumentException("Epoch " + epoch + " cannot start at " + startOffset
                    + ", beyond the log end " + logEndOffset);
        }
        epochs.assign(epoch, startOffset);
    }

    /**
     * The high watermark the last {@link #checkpointHighWatermark} wrote before this log was opened, kept within
     * {@code [logStartOffset, logEndOffset]} as opened (recovery may have cut records it covered); 0 for a log that
     * never had one. A replica restarts its high watermark from it.
     */
    public long checkpointedHighWatermark() {
        return checkpointedHighWatermark;
    }

    /**
     * Persists {@code highWatermark} to {@value #HIGH_WATERMARK_FILE} ({@code "0\n<offset>\n"}: format version,
     * then the offset), replaced atomically and durably; a value equal to the last written is not written again.
     * Blocking (two fsyncs): callers run it off the event loop, e.g. on the flush executor, periodically rather than
     * on every change. Thread-safe: it touches only that file, and concurrent calls are serialised.
     *
     * @throws MillraceException {@code STORAGE_ERROR} if the file cannot be written
     */
    public void checkpointHighWatermark(long highWatermark) {
        synchronized (highWatermarkLock) {
            if (highWatermark == highWatermarkOnDisk) {
                return;
            }
            try {
                DurableFiles.replace(dir, HIGH_WATERMARK_FILE, HIGH_WATERMARK_VERSION + "\n" + highWatermark + "\n");
                highWatermarkOnDisk = highWatermark;
            } catch (IOException e) {
                throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot checkpoint the high watermark of " + dir,
                        e);
            }
        }
    }

    /**
     * Appends a batch produced to this partition's leader: validates it, assigns it offsets from the log end, stamps
     * the leader epoch (and the broker's time under {@code LogAppendTime}) into it, writes it, and applies the flush
     * policy. The batch's buffer is modified in place. A retried idempotent batch is not written again: the answer
     * carries its first offsets and {@code duplicate}.
     *
     * @throws MillraceException {@code RECORD_TOO_LARGE}, {@code CORRUPT_RECORD}, {@code UNSUPPORTED_COMPRESSION},
     *                           {@code INVALID_TIMESTAMP}, {@code OUT_OF_ORDER_SEQUENCE} or
     *                           {@code INVALID_PRODUCER_EPOCH} for a batch it refuses (the log is unchanged),
     *                           {@code STORAGE_ERROR} if the disk fails
     */
    public LogAppendInfo appendAsLeader(RecordBatch batch, int leaderEpoch) {
        LogAppendResult result = appendAsLeader(List.of(batch), leaderEpoch).get(0);
        if (result.error().isPresent()) {
            throw result.error().get();
        }
        return result.info().orElseThrow();
    }

    /**
     * Appends several batches as {@link #appendAsLeader(RecordBatch, int)} does each, in order, with one write per
     * segment they land in. Each batch is accepted or refused on its own; the results follow the batches' order.
     * The partition verticle hands over every batch produced since its last turn, so under load many small batches
     * reach the disk in one system call.
     *
     * @throws MillraceException {@code STORAGE_ERROR} if the disk fails (then no batch of the failed write is in the
     *                           log)
     */
    public List<LogAppendResult> appendAsLeader(List<RecordBatch> batches, int leaderEpoch) {
        ensureOpen();
        if (!batches.isEmpty() && leaderEpoch > epochs.latestEpoch()) {
            // Before anything is written (as Kafka): a crash then leaves the cache ahead of the log, which opening
            // corrects, never behind it. The first accepted batch lands at the log end whichever batches are refused.
            epochs.assign(leaderEpoch, logEndOffset);
        }
        List<LogAppendResult> results = new ArrayList<>(batches.size());
        List<RecordBatch> group = new ArrayList<>(batches.size());
        long groupBytes = 0;
        long now = time.milliseconds();
        for (RecordBatch batch : batches) {
            try {
                checkTimestamps(batch, validate(batch), now);
                if (batch.producerId() >= 0) {
                    Optional<ProducerStateManager.BatchMeta> earlier = producerState.check(batch.producerId(),
                            batch.producerEpoch(), batch.baseSequence(), batch.lastSequence());
                    if (earlier.isPresent()) {
                        results.add(LogAppendResult.of(new LogAppendInfo(earlier.get().firstOffset(),
                                earlier.get().lastOffset(), batch.recordCount(), OptionalLong.empty(), 0, true)));
                        continue;
                    }
                }
            } catch (MillraceException e) {
                results.add(LogAppendResult.failed(e));
                continue;
            }
            if (shouldRoll(groupBytes, batch)) {
                writeGroup(group);
                group.clear();
                groupBytes = 0;
                roll();
            }
            batch.setBaseOffset(logEndOffset);
            batch.setPartitionLeaderEpoch(leaderEpoch);
            OptionalLong appendTime = OptionalLong.empty();
            if (config.timestampType() == TimestampType.LOG_APPEND_TIME) {
                batch.setLogAppendTime(now);
                appendTime = OptionalLong.of(now);
            }
            logEndOffset = batch.lastOffset() + 1;
            if (batch.producerId() >= 0) {
                producerState.update(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
                        batch.lastSequence(), batch.baseOffset(), batch.lastOffset(), now);
            }
            group.add(batch);
            groupBytes += batch.sizeInBytes();
            results.add(LogAppendResult.of(new LogAppendInfo(batch.baseOffset(), batch.lastOffset(),
                    batch.recordCount(), appendTime, batch.sizeInBytes(), false)));
        }
        writeGroup(group);
        maybeFlush();
        return results;
    }

    /** Writes batches that already have their offsets; on failure the log end goes back to what is on disk. */
    private void writeGroup(List<RecordBatch> group) {
        if (group.isEmpty()) {
            return;
        }
        try {
            active.append(group);
        } catch (RuntimeException e) {
            logEndOffset = active.nextOffset();
            producerState.truncateTo(logEndOffset);
            // Entries starting at the end stay: a new leader's epoch legitimately starts there before any write.
            epochs.truncateFromEnd(logEndOffset + 1);
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot append to " + dir + ": " + e.getMessage(),
                    e);
        }
    }

    /**
     * Appends one batch copied from the leader; see {@link #appendAsFollower(List)}. Returns what was written.
     */
    public LogAppendInfo appendAsFollower(RecordBatch batch) {
        return appendAsFollower(List.of(batch));
    }

    /**
     * Appends batches copied from the leader, keeping their offsets, leader epochs and timestamps, with one write
     * per segment they land in. All or nothing: each batch is validated as {@link #appendAsLeader} validates (size,
     * CRC, dense offsets, codec, decodable records) and the first must start at the log end offset, each next one
     * right after the previous one's last offset; otherwise nothing is written. The leader epoch cache gains an entry
     * for every batch whose epoch is above the latest one, and the producer state records every idempotent batch,
     * so that a producer retrying against this replica once it leads is answered as a duplicate. Sequence numbers
     * are not checked: the leader did that. Applies the flush policy.
     *
     * @return the range written: first offset (the old log end), last offset ({@code logEndOffset() - 1}), record
     *         count and bytes; for no batches, an empty range at the log end
     * @throws MillraceException {@code OFFSET_OUT_OF_RANGE} for a batch that does not continue the log,
     *                           {@code RECORD_TOO_LARGE}, {@code CORRUPT_RECORD} or {@code UNSUPPORTED_COMPRESSION}
     *                           for an invalid one (the log is unchanged in all these cases); {@code STORAGE_ERROR} if
     *                           the disk fails (a prefix of the batches may then be in the log: see
     *                           {@link #logEndOffset()})
     */
    public LogAppendInfo appendAsFollower(List<RecordBatch> batches) {
        ensureOpen();
        long now = time.milliseconds();
        long firstOffset = logEndOffset;
        long expected = logEndOffset;
        int records = 0;
        int bytes = 0;
        for (RecordBatch batch : batches) {
            validate(batch);
            if (batch.baseOffset() != expected) {
                throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Batch starts at offset "
                        + batch.baseOffset() + " but " + expected + " was expected (log end " + logEndOffset + ")");
            }
            expected = batch.lastOffset() + 1;
            records += batch.recordCount();
            bytes += batch.sizeInBytes();
        }
        for (RecordBatch batch : batches) {
            // Before the write, as for the leader (see appendAsLeader).
            if (batch.partitionLeaderEpoch() > epochs.latestEpoch()) {
                epochs.assign(batch.partitionLeaderEpoch(), batch.baseOffset());
            }
        }
        List<RecordBatch> group = new ArrayList<>(batches.size());
        long groupBytes = 0;
        for (RecordBatch batch : batches) {
            if (shouldRoll(groupBytes, batch)) {
                writeGroup(group);
                group.clear();
                groupBytes = 0;
                roll();
            }
            logEndOffset = batch.lastOffset() + 1;
            if (batch.producerId() >= 0) {
                producerState.update(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
                        batch.lastSequence(), batch.baseOffset(), batch.lastOffset(), now);
            }
            group.add(batch);
            groupBytes += batch.sizeInBytes();
        }
        writeGroup(group);
        maybeFlush();
        return new LogAppendInfo(firstOffset, logEndOffset - 1, records, OptionalLong.empty(), bytes, false);
    }

    /**
     * Checks a batch's size, CRC, offsets, codec and records (what a follower checks too: the leader's timestamp
     * rules are not, as the leader already applied them). Returns the range of its record timestamps.
     */
    private TimestampRange validate(RecordBatch batch) {
        ensureOpen();
        if (batch.sizeInBytes() > config.maxMessageBytes()) {
            throw new MillraceException(ErrorCode.RECORD_TOO_LARGE, "Batch of " + batch.sizeInBytes()
                    + " bytes exceeds max.message.bytes=" + config.maxMessageBytes());
        }
        batch.ensureValid();
        if (batch.recordCount() < 1 || batch.recordCount() != batch.lastOffsetDelta() + 1) {
            throw new CorruptRecordException("Batch declares " + batch.recordCount() + " records but a last offset"
                    + " delta of " + batch.lastOffsetDelta() + "; offsets inside a batch must be dense from 0");
        }
        // As Kafka's log validator: records every reader will decode must decode (an unknown codec id 5-7 is refused
        // with UNSUPPORTED_COMPRESSION); the batch itself is kept as it came. Decompressed data may be at most
        // a generous multiple of the batch limit, so a small "zip bomb" cannot make the broker inflate gigabytes.
        return batch.validateRecords((int) Math.min(Integer.MAX_VALUE - 8, 16L * config.maxMessageBytes()));
    }

    /**
     * Under {@code CreateTime}, refuses a batch with a record timestamp (or a header max timestamp, which retention
     * and the time index go by) more than {@code message.timestamp.after.max.ms} ahead of {@code now} or
     * {@code message.timestamp.before.max.ms} behind it, as Kafka: a record dated years ahead would otherwise hold
     * its segment past every retention.ms.
     */
    private void checkTimestamps(RecordBatch batch, TimestampRange records, long now) {
        if (config.timestampType() != TimestampType.CREATE_TIME) {
            return;
        }
        long earliest = now - config.timestampBeforeMaxMs();
        long latest = config.timestampAfterMaxMs() > Long.MAX_VALUE - now ? Long.MAX_VALUE
                : now + config.timestampAfterMaxMs();
        long lowest = Math.min(records.min(), batch.maxTimestamp());
        long highest = Math.max(records.max(), batch.maxTimestamp());
        if (highest > latest) {
            throw new MillraceException(ErrorCode.INVALID_TIMESTAMP, "Timestamp " + highest + " is "
                    + (highest - now) + " ms ahead of the broker's clock (" + now + "); the topic allows "
                    + LogConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS + "=" + config.timestampAfterMaxMs());
        }
        if (lowest < earliest) {
            throw new MillraceException(ErrorCode.INVALID_TIMESTAMP, "Timestamp " + lowest + " is more than "
                    + config.timestampBeforeMaxMs() + " ms behind the broker's clock (" + now + "); the topic allows "
                    + LogConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS + "=" + config.timestampBeforeMaxMs());
        }
    }

    /** Whether {@code batch} must start a new segment, given {@code pendingBytes} about to be written before it. */
    private boolean shouldRoll(long pendingBytes, RecordBatch batch) {
        long used = active.size() + pendingBytes;
        if (used == 0) {
            return false;
        }
        boolean full = used + batch.sizeInBytes() > config.segmentBytes();
        boolean old = active.firstBatchTimestamp().stream()
                .anyMatch(first -> time.milliseconds() - first >= config.segmentMs());
        boolean offsetsOverflow = logEndOffset + batch.lastOffsetDelta() - active.baseOffset() > Integer.MAX_VALUE;
        return full || old || offsetsOverflow || active.offsetIndexFull();
    }

    /** Closes the active segment to appends and starts a new one at the log end; flushes the old one asynchronously. */
    public void roll() {
        ensureOpen();
        if (active.isEmpty()) {
            return;
        }
        LogSegment previous = active;
        // Create the new segment first: if that fails (disk full), the old one is still whole and active.
        LogSegment next = LogSegment.create(dir, logEndOffset, config, openFiles);
        previous.becomeInactive();
        segments.put(next.baseOffset(), next);
        active = next;
        long newCheckpoint = next.baseOffset();
        long generation = truncations;
        ByteBuffer snapshot = producerState.snapshotBytes(logEndOffset);
        // Chained after every earlier flush, so checkpoints are written in roll order and never claim a segment
        // whose own flush has not finished.
        CompletableFuture<Void> rolled = flushInFlight.exceptionally(e -> 0L).thenRunAsync(() -> {
            try {
                previous.flush();
                writeProducerSnapshot(snapshot);
                DurableFiles.fsyncDirectory(dir);
                advanceCheckpoint(newCheckpoint, generation);
            } catch (IOException | RuntimeException e) {
                LOG.error("Cannot flush rolled segment {} of {}", previous, dir, e);
            }
        }, flushExecutor);
        flushInFlight = rolled.thenApply(v -> flushedOffset.get());
    }

    /**
     * Reads whole batches from the one holding {@code offset}: at least one batch, then more while they fit in
     * {@code maxBytes}. Only batches that end below {@code maxOffsetExclusive} are returned, so a reader never sees
     * records above the high watermark. An empty slice means there is nothing there yet.
     *
     * @throws MillraceException {@code OFFSET_OUT_OF_RANGE} if {@code offset} is below the log start or above the end
     */
    public LogSlice read(long offset, int maxBytes, long maxOffsetExclusive) {
        try {
            return readFrom(offset, maxBytes, maxOffsetExclusive);
        } catch (InternalError e) {
            throw MappedIndex.mappedFileFault("read " + dir + " at offset " + offset, e);
        }
    }

    private LogSlice readFrom(long offset, int maxBytes, long maxOffsetExclusive) {
        ensureOpen();
        if (offset < logStartOffset() || offset > logEndOffset) {
            throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Offset " + offset + " is outside the log ["
                    + logStartOffset() + ", " + logEndOffset + "]");
        }
        long limit = Math.min(maxOffsetExclusive, logEndOffset);
        if (offset >= limit) {
            return LogSlice.empty(offset);
        }
        for (LogSegment segment : segments.tailMap(segments.floorKey(offset)).values()) {
            LogSlice slice = segment.read(offset, maxBytes, limit);
            if (!slice.isEmpty()) {
                return slice;
            }
            if (segment.nextOffset() >= limit) {
                break;
            }
        }
        return LogSlice.empty(offset);
    }

    /** Reads up to the log end; see {@link #read(long, int, long)}. */
    public LogSlice read(long offset, int maxBytes) {
        return read(offset, maxBytes, Long.MAX_VALUE);
    }

    /**
     * The first record whose timestamp is at least {@code timestamp}: the first batch whose largest timestamp reaches
     * it, then the first record inside that batch that does (as Apache Kafka answers ListOffsets). Empty when every
     * record is older.
     */
    public Optional<TimestampOffset> offsetForTimestamp(long timestamp) {
        ensureOpen();
        try {
            for (LogSegment segment : segments.values()) {
                Optional<BatchHeader> header = segment.findBatchByTimestamp(timestamp);
                if (header.isEmpty()) {
                    continue;
                }
                RecordBatch batch = segment.readBatch(header.get());
                for (Record record : batch.records()) {
                    if (record.timestamp() >= timestamp) {
                        return Optional.of(new TimestampOffset(record.timestamp(), record.offset()));
                    }
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot search " + dir + " by timestamp", e);
        } catch (InternalError e) {
            throw MappedIndex.mappedFileFault("search " + dir + " by timestamp", e);
        }
    }

    /**
     * Removes every record at or above {@code offset}, as a follower does to drop a tail that diverged from its
     * leader. A batch straddling {@code offset} is removed whole. The leader epoch cache forgets the epochs that start
     * at or after the new log end (also when nothing is removed: a leader that assigned itself an epoch and was
     * deposed before writing leaves such an entry, as in Kafka), and the producer state the batches removed. If
     * {@code offset} is at or below the log start, the log is emptied and restarts at {@code offset}, as
     * {@link #truncateFullyAndStartAt} does. Returns the new log end offset.
     */
    public long truncateTo(long offset) {
        ensureOpen();
        if (offset < 0) {
            throw new IllegalArgumentException("Cannot truncate to a negative offset: " + offset);
        }
        if (offset >= logEndOffset) {
            epochs.truncateFromEnd(logEndOffset);
            return logEndOffset;
        }
        if (offset <= logStartOffset()) {
            truncateFullyAndStartAt(offset);
            return logEndOffset;
        }
        long keep = segments.floorKey(offset);
        for (LogSegment later : new ArrayList<>(segments.tailMap(keep, false).values())) {
            segments.remove(later.baseOffset());
            later.delete();
        }
        active = segments.get(keep);
        active.truncateTo(offset);
        active.becomeActive();
        afterTruncation();
        epochs.truncateFromEnd(logEndOffset);
        return logEndOffset;
    }

    /**
     * Empties the log and restarts it at {@code offset}, which may lie anywhere, also beyond the log end: what a
     * follower does when the offset it would fetch is below its leader's log start (Kafka's
     * {@code truncateFullyAndStartAt}). Every segment is deleted, the epoch cache and the producer state are cleared
     * (and persisted so, so that a restart cannot bring them back), and the log start and end become {@code offset}.
     * The high-watermark checkpoint is the caller's to rewrite.
     */
    public void truncateFullyAndStartAt(long offset) {
        ensureOpen();
        if (offset < 0) {
            throw new IllegalArgumentException("Cannot restart the log at a negative offset: " + offset);
        }
        List<LogSegment> all = new ArrayList<>(segments.values());
        segments.clear();
        all.forEach(LogSegment::delete);
        active = LogSegment.create(dir, offset, config, openFiles);
        segments.put(offset, active);
        producerState.clear();
        afterTruncation();
        epochs.clear();
        try {
            // An older snapshot could describe producers of a range now gone yet below the new start.
            writeProducerSnapshot(producerState.snapshotBytes(offset));
            // Without this a crash could bring back the deleted segments, which recovery would keep and the new one
            // it would drop, as it keeps the prefix before a gap.
            DurableFiles.fsyncDirectory(dir);
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot restart log " + dir + " at " + offset, e);
        }
    }

    /** Brings the derived state in line with a log that was just cut back. */
    private void afterTruncation() {
        logEndOffset = active.nextOffset();
        producerState.truncateTo(logEndOffset);
        flushedOffset.accumulateAndGet(logEndOffset, Math::min);
        synchronized (this) {
            truncations++;
            if (checkpointedOffset > active.baseOffset()) {
                advanceCheckpoint(active.baseOffset(), truncations);
            }
        }
    }

    /**
     * Deletes whole segments that fall outside {@code retention.ms} (their newest record is older) or
     * {@code retention.bytes} (the log is larger without them), oldest first, and moves the log start offset.
     * The active segment is rolled first when all of it has expired, so that expired data really goes. For a log
     * with one replica; a replicated log uses {@link #enforceRetention(long)}.
     *
     * @return the number of segments deleted
     */
    public int enforceRetention() {
        return enforceRetention(Long.MAX_VALUE);
    }

    /**
     * Applies retention as {@link #enforceRetention()} does, but deletes a segment only if all its records are below
     * {@code maxDeletableOffset}: a leader passes the offset every replica has (its high watermark, as Kafka), so a
     * lagging follower never finds the records it still needs gone. The leader epoch cache forgets what lies below
     * the new log start.
     *
     * @return the number of segments deleted
     */
    public int enforceRetention(long maxDeletableOffset) {
        ensureOpen();
        long now = time.milliseconds();
        if (config.retentionMs() >= 0 && !active.isEmpty() && now - active.maxTimestamp() > config.retentionMs()) {
            roll();
        }
        long excess = config.retentionBytes() < 0 ? 0 : size() - config.retentionBytes();
        int deleted = 0;
        List<LogSegment> all = new ArrayList<>(segments.values());
        for (int i = 0; i + 1 < all.size(); i++) {
            LogSegment segment = all.get(i);
            // the next segment's base offset bounds this segment's records
            if (segment == active || all.get(i + 1).baseOffset() > maxDeletableOffset) {
                break;
            }
            boolean expired = config.retentionMs() >= 0 && now - segment.maxTimestamp() > config.retentionMs();
            boolean overSize = excess - segment.size() >= 0 && config.retentionBytes() >= 0;
            if (!expired && !overSize) {
                break;
            }
            excess -= segment.size();
            segments.remove(segment.baseOffset());
            segment.delete();
            deleted++;
        }
        if (deleted > 0) {
            epochs.truncateFromStart(logStartOffset());
            LOG.info("Retention deleted {} segments of {}; log start offset is now {}", deleted, dir,
                    logStartOffset());
        }
        producerState.expire(now, config.producerIdExpirationMs());
        return deleted;
    }

    /**
     * Deletes the whole segments that lie entirely below {@code offset}, oldest first, and moves the log start offset
     * (Kafka's DeleteRecords, at segment granularity). For an owner that has written again, at or after
     * {@code offset}, everything those records still said, such as the group coordinator's snapshot of committed
     * offsets: the older records are then redundant. The active segment is never deleted; records of a segment that
     * reaches {@code offset} stay. A replicated log bounds it by what every replica has: pass at most that offset
     * (the leader's high watermark). The leader epoch cache forgets what lies below the new log start.
     *
     * @return the number of segments deleted
     */
    public int deleteSegmentsBefore(long offset) {
        ensureOpen();
        int deleted = 0;
        List<LogSegment> all = new ArrayList<>(segments.values());
        for (int i = 0; i + 1 < all.size(); i++) {
            LogSegment segment = all.get(i);
            // the next segment's base offset bounds this segment's records
            if (segment == active || all.get(i + 1).baseOffset() > offset) {
                break;
            }
            segments.remove(segment.baseOffset());
            segment.delete();
            deleted++;
        }
        if (deleted > 0) {
            epochs.truncateFromStart(logStartOffset());
            LOG.info("Deleted {} segments of {} below offset {}; log start offset is now {}", deleted, dir, offset,
                    logStartOffset());
        }
        return deleted;
    }

    /**
     * Starts an fsync when the flush policy says one is due ({@code flush.messages} records or {@code flush.ms}
     * milliseconds since the last) and none is running. The owner calls it after appends and, while
     * {@link #flushPending()}, from a timer.
     *
     * @return whether a flush was started
     */
    public boolean maybeFlush() {
        long unflushed = logEndOffset - flushedOffset.get();
        if (unflushed <= 0 || !flushInFlight.isDone()) {
            return false;
        }
        boolean byCount = config.flushMessages() > 0 && unflushed >= config.flushMessages();
        boolean byTime = config.flushMs() >= 0 && time.milliseconds() - lastFlushStartMs >= config.flushMs();
        if (byCount || byTime) {
            flushAsync();
            return true;
        }
        return false;
    }

    /**
     * Whether {@link #maybeFlush()} may yet start an fsync with no further append: records are unflushed and either
     * {@code flush.ms} applies or {@code flush.messages} of them wait behind a running flush. While this holds the
     * owner calls {@code maybeFlush} again later; otherwise it needs no timer, since only an append can make a flush
     * due (and appends call {@code maybeFlush} themselves).
     */
    public boolean flushPending() {
        long unflushed = logEndOffset - flushedOffset.get();
        return unflushed > 0 && (config.flushMs() >= 0
                || config.flushMessages() > 0 && unflushed >= config.flushMessages());
    }

    /**
     * Fsyncs everything appended so far on the flush executor. Completes with the offset below which every record
     * is on disk.
     */
    public CompletableFuture<Long> flushAsync() {
        ensureOpen();
        long target = logEndOffset;
        List<LogSegment> dirty = dirtySegments();
        lastFlushStartMs = time.milliseconds();
        CompletableFuture<Long> done = flushInFlight.exceptionally(e -> 0L)
                .thenApplyAsync(ignored -> flushSegments(dirty, target), flushExecutor);
        flushInFlight = done;
        return done;
    }

    /** Fsyncs everything appended so far, blocking the caller; returns the flushed offset. */
    public long flush() {
        ensureOpen();
        lastFlushStartMs = time.milliseconds();
        return flushSegments(dirtySegments(), logEndOffset);
    }

    private List<LogSegment> dirtySegments() {
        long flushed = flushedOffset.get();
        List<LogSegment> dirty = new ArrayList<>();
        for (LogSegment segment : segments.descendingMap().values()) {
            dirty.add(segment);
            if (segment.baseOffset() <= flushed) {
                break;
            }
        }
        return dirty;
    }

    private long flushSegments(List<LogSegment> dirty, long target) {
        for (LogSegment segment : dirty) {
            // Only a segment no longer active needs its indexes on disk (see LogSegment.flush).
            segment.flush(segment != active);
        }
        return flushedOffset.accumulateAndGet(target, Math::max);
    }

    /**
     * Flushes everything, trims the indexes and leaves the clean-shutdown marker, so the next open skips recovery.
     * Blocking: call it off the event loop.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        flushInFlight.exceptionally(e -> 0L).join();
        try {
            for (LogSegment segment : segments.values()) {
                segment.flush();
                segment.close();
            }
            writeCheckpoint(dir, active.baseOffset());
            writeProducerSnapshot(producerState.snapshotBytes(logEndOffset));
            Files.write(dir.resolve(CLEAN_SHUTDOWN_FILE), new byte[0]);
            DurableFiles.fsyncDirectory(dir);
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot close log " + dir + " cleanly", e);
        }
    }

    /**
     * Releases the files the way a killed process would: no flush, no index trimming, no clean-shutdown marker.
     * For crash tests only.
     */
    void abandon() {
        closed = true;
        flushInFlight.exceptionally(e -> 0L).join();
        segments.values().forEach(LogSegment::abandon);
    }

    /** Deletes the log and its directory (the topic is being deleted). */
    public void delete() {
        closed = true;
        flushInFlight.exceptionally(e -> 0L).join();
        segments.values().forEach(LogSegment::delete);
        segments.clear();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot delete log " + dir, e);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Log " + dir + " is closed");
        }
    }

    /**
     * Records that every segment below {@code offset} is on disk, unless the log was truncated since the flush that
     * proved it began (then the claim may no longer hold).
     */
    private synchronized void advanceCheckpoint(long offset, long generation) {
        if (generation != truncations) {
            return;
        }
        try {
            writeCheckpoint(dir, offset);
            checkpointedOffset = offset;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the recovery checkpoint of " + dir, e);
        }
    }

    private static void writeCheckpoint(Path dir, long offset) throws IOException {
        DurableFiles.replace(dir, RECOVERY_CHECKPOINT_FILE, CHECKPOINT_VERSION + "\n" + offset + "\n");
    }

    /** The high watermark in its checkpoint file, or empty when the file is missing or unreadable. */
    private static Optional<Long> readHighWatermark(Path dir) {
        return readOffsetFile(dir.resolve(HIGH_WATERMARK_FILE), HIGH_WATERMARK_VERSION, "high-watermark checkpoint");
    }

    /** The checkpointed offset, or empty when the file is missing or unreadable (then everything is validated). */
    private static Optional<Long> readCheckpoint(Path dir) {
        return readOffsetFile(dir.resolve(RECOVERY_CHECKPOINT_FILE), CHECKPOINT_VERSION, "recovery checkpoint");
    }

    /** An offset file ({@code "<version>\n<offset>\n"}), or empty when it is missing, unreadable or of another version. */
    private static Optional<Long> readOffsetFile(Path file, int version, String what) {
        try {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n");
            if (lines.length >= 2 && lines[0].trim().equals(Integer.toString(version))) {
                return Optional.of(Long.parseLong(lines[1].trim()));
            }
        } catch (IOException | NumberFormatException e) {
            LOG.warn("Ignoring unreadable {} {}: {}", what, file, e.toString());
        }
        return Optional.empty();
    }

    private static TreeMap<Long, Path> listSegments(Path dir) throws IOException {
        TreeMap<Long, Path> found = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + LogSegment.LOG_SUFFIX)) {
            for (Path file : files) {
                Matcher m = SEGMENT_FILE.matcher(file.getFileName().toString());
                if (m.matches()) {
                    found.put(Long.parseLong(m.group(1)), file);
                } else {
                    LOG.warn("Ignoring unexpected file {} in log directory", file);
                }
            }
        }
        return found;
    }

    /** Removes temporary files and indexes whose segment is gone (a crash between two deletions leaves them). */
    private static void deleteLeftovers(Path dir) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(DurableFiles.TEMP_SUFFIX)) {
                    // An interrupted checkpoint or snapshot replacement.
                    Files.deleteIfExists(file);
                } else if (name.endsWith(OffsetIndex.SUFFIX) || name.endsWith(TimeIndex.SUFFIX)) {
                    String base = name.substring(0, name.indexOf('.'));
                    if (!Files.exists(dir.resolve(base + LogSegment.LOG_SUFFIX))) {
                        Files.deleteIfExists(file);
                    }
                }
            }
        }
    }

    private static void deleteSegmentFiles(Path dir, long base) throws IOException {
        for (String suffix : new String[] {LogSegment.LOG_SUFFIX, OffsetIndex.SUFFIX, TimeIndex.SUFFIX}) {
            Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, suffix)));
        }
    }

    /** Replaces the producer-state snapshot; serialised, since rolls may flush on several threads. */
    private synchronized void writeProducerSnapshot(ByteBuffer bytes) throws IOException {
        ProducerStateManager.writeSnapshot(dir, bytes);
    }

    /** Idempotent producers this log currently tracks. */
    public int producerCount() {
        return producerState.producerCount();
    }

    @Override
    public String toString() {
        return "PartitionLog(" + dir + ", start=" + logStartOffset() + ", end=" + logEndOffset + ")";
    }
}
