package io.millrace.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Counts a process's open descriptors on segment files, where Linux lists them: {@code /proc/<pid>/fd}. */
public final class SegmentDescriptors {

    private SegmentDescriptors() {
    }

    /** Whether this system lists descriptors under {@code /proc}. */
    public static boolean countable() {
        return Files.isDirectory(Path.of("/proc/self/fd"));
    }

    /**
     * Descriptors of process {@code pid} ({@code "self"} for this one) open on a segment file (log or index) below
     * {@code dir}, which must be a real path (no links).
     */
    public static int open(String pid, Path dir) {
        int count = 0;
        try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(Path.of("/proc", pid, "fd"))) {
            for (Path descriptor : descriptors) {
                Path target;
                try {
                    target = Files.readSymbolicLink(descriptor);
                } catch (IOException e) {
                    // Closed while listing.
                    continue;
                }
                String name = target.toString();
                if (target.startsWith(dir) && (name.endsWith(LogSegment.LOG_SUFFIX)
                        || name.endsWith(OffsetIndex.SUFFIX) || name.endsWith(TimeIndex.SUFFIX))) {
                    count++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return count;
    }
}
