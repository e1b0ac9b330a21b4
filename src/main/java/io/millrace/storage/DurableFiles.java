package io.millrace.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe replacement of the small files beside the segments (checkpoints, snapshots): a reader after a crash
 * finds either the old content or the new one, never a mix. Stateless; any thread, but the callers serialise writes
 * of the same file.
 */
final class DurableFiles {

    /** Suffix of a replacement being written; {@code PartitionLog.open} deletes leftovers of interrupted ones. */
    static final String TEMP_SUFFIX = ".tmp";

    private DurableFiles() {
    }

    /** Replaces {@code dir/name} with {@code text} (UTF-8); see {@link #replace(Path, String, ByteBuffer)}. */
    static void replace(Path dir, String name, String text) throws IOException {
        replace(dir, name, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Replaces {@code dir/name} with the bytes from position to limit of {@code content} (which is not changed):
     * writes a temporary file, fsyncs it, renames it over the old file and fsyncs the directory so the rename
     * itself survives a crash.
     */
    static void replace(Path dir, String name, ByteBuffer content) throws IOException {
        ByteBuffer buf = content.duplicate();
        Path tmp = dir.resolve(name + TEMP_SUFFIX);
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
            channel.force(true);
        }
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(dir);
    }

    /** Makes file creations, renames and deletions in {@code dir} durable. */
    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
