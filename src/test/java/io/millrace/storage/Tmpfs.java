package io.millrace.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small tmpfs mounted for one test, to make a data directory really full or read-only: as root, file permissions
 * stop no write, and only a real file system gives the real failures (ENOSPC on write, SIGBUS on a memory-mapped
 * page it cannot supply). Needs permission to mount; without it, {@link #mount} fails the test with a clear message
 * rather than skipping it.
 */
public final class Tmpfs implements AutoCloseable {

    private static final String FILLER = "filler";

    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code size} (as mount(8) reads it: {@code 8m}) on a new directory under {@code parent}. */
    public static Tmpfs mount(Path parent, String size) {
        try {
            Path dir = Files.createTempDirectory(parent, "tmpfs-");
            run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
            return new Tmpfs(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** Fills the file system to its last byte with one file, until a write fails for want of space. */
    public void fill() {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        try (FileChannel channel = FileChannel.open(dir.resolve(FILLER), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (true) {
                chunk.clear();
                channel.write(chunk);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw new UncheckedIOException("Filling " + dir + " failed for another reason than space", e);
            }
        }
    }

    /** Deletes what {@link #fill} wrote. */
    public void free() {
        try {
            Files.deleteIfExists(dir.resolve(FILLER));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void remountReadOnly() {
        run("mount", "-o", "remount,ro", dir.toString());
    }

    public void remountWritable() {
        run("mount", "-o", "remount,rw", dir.toString());
    }

    /** Unmounts (lazily, should a file still be open) and removes the mount point. */
    @Override
    public void close() {
        run("umount", "-l", dir.toString());
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(String... command) {
        List<String> line = new ArrayList<>(List.of(command));
        try {
            Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", line) + " did not finish within 30 s");
            }
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (process.exitValue() != 0) {
                throw new AssertionError(String.join(" ", line) + " failed (exit " + process.exitValue() + "): "
                        + output + ". These tests mount a small tmpfs to make a disk full or read-only; they need"
                        + " root and permission to mount (in a container: CAP_SYS_ADMIN).");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted while running " + line, e);
        }
    }
}
