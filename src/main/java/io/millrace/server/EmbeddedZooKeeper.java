package io.millrace.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single ZooKeeper server inside this JVM: the broker's embedded one, with its data under the broker's data folder
 * so that one command starts a complete broker, and the stand-alone {@code millrace zookeeper}. A real deployment
 * points brokers at an external ensemble instead. The server holds a lock on its folder while it runs, since two
 * servers writing one transaction log would corrupt it.
 */
final class EmbeddedZooKeeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);

    /** The tick of the broker's embedded server: sessions may then last from 2 s to {@link #MAX_SESSION_TIMEOUT_MS}. */
    static final int DEFAULT_TICK_TIME_MS = 1000;

    /** Longest session timeout a client may ask for, whatever the tick (ZooKeeper's own default is 20 ticks). */
    static final int MAX_SESSION_TIMEOUT_MS = 60_000;

    private static final String LOCK_FILE = "zookeeper.lock";
    /**
     * Space kept aside on the data disk for this server. ZooKeeper writes a config file and a snapshot on every start
     * and its transaction log as it goes, and a server that cannot write refuses to start: on a disk the broker's
     * partitions have filled, this file is deleted at start to give it room, and written again at a start that has
     * the space.
     */
    private static final String RESERVE_FILE = "space-reserve";

    private final ZooKeeperServerEmbedded server;
    private final FileChannel lock;
    private final String connectString;

    private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, FileChannel lock, String connectString) {
        this.server = server;
        this.lock = lock;
        this.connectString = connectString;
    }

    /**
     * Starts the broker's server on {@code port}, or on a free port when it is 0, keeping {@code reserveBytes} of
     * disk space aside for it ({@code zookeeper.embedded.reserve.bytes}), so that it starts on a full disk too.
     */
    static EmbeddedZooKeeper start(Path baseDir, String host, int port, long timeoutMs, long reserveBytes)
            throws Exception {
        Files.createDirectories(baseDir);
        Path reserve = baseDir.resolve(RESERVE_FILE);
        Files.deleteIfExists(reserve);
        EmbeddedZooKeeper server = start(baseDir, host, port, DEFAULT_TICK_TIME_MS, timeoutMs);
        try {
            writeReserve(reserve, reserveBytes);
        } catch (IOException e) {
            Files.deleteIfExists(reserve);
            LOG.warn("Cannot keep {} bytes aside for the embedded ZooKeeper in {} ({}): it will have no reserve if"
                    + " the disk fills up before the next start with free space", reserveBytes, baseDir, e.toString());
        }
        return server;
    }

    /** Writes real zeros, not a sparse file: only allocated blocks are space that deleting the file gives back. */
    private static void writeReserve(Path reserve, long bytes) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        try (FileChannel channel = FileChannel.open(reserve, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            long written = 0;
            while (written < bytes) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), bytes - written));
                written += channel.write(chunk);
            }
            channel.force(true);
        }
    }

    /**
     * Starts the server on {@code port}, or on a free port when it is 0, with the given tick. ZooKeeper grants a
     * client a session timeout between 2 ticks and {@link #MAX_SESSION_TIMEOUT_MS}, and checks expiry once a tick.
     *
     * @throws IllegalStateException if another server uses {@code baseDir}
     */
    static EmbeddedZooKeeper start(Path baseDir, String host, int port, int tickTimeMs, long timeoutMs)
            throws Exception {
        Files.createDirectories(baseDir);
        FileChannel lock = lock(baseDir);
        try {
            if (port == 0) {
                // ZooKeeper would bind an ephemeral port but report 0 in its connect string: choose one ourselves.
                try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(host))) {
                    port = probe.getLocalPort();
                }
            }
            Properties props = new Properties();
            props.setProperty("clientPort", Integer.toString(port));
            props.setProperty("clientPortAddress", host);
            props.setProperty("tickTime", Integer.toString(tickTimeMs));
            props.setProperty("maxSessionTimeout", Integer.toString(MAX_SESSION_TIMEOUT_MS));
            props.setProperty("admin.enableServer", "false");
            props.setProperty("maxCnxns", "0");
            props.setProperty("maxClientCnxns", "0");
            ZooKeeperServerEmbedded server = ZooKeeperServerEmbedded.builder()
                    .baseDir(baseDir)
                    .configuration(props)
                    .exitHandler(ExitHandler.LOG_ONLY)
                    .build();
            server.start(timeoutMs);
            return new EmbeddedZooKeeper(server, lock, host + ":" + port);
        } catch (Exception | Error e) {
            lock.close();
            throw e;
        }
    }

    /** The lock dies with the process, even on SIGKILL, so a crash never leaves the folder locked. */
    private static FileChannel lock(Path baseDir) throws IOException {
        FileChannel channel = FileChannel.open(baseDir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock held;
        try {
            held = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            held = null;
        }
        if (held == null) {
            channel.close();
            throw new IllegalStateException(baseDir + " is in use by another ZooKeeper server");
        }
        return channel;
    }

    String connectString() {
        return connectString;
    }

    @Override
    public void close() {
        server.close();
        try {
            lock.close();
        } catch (IOException e) {
            // The lock goes with the process anyway; nothing to do about a failed early release.
        }
    }
}
