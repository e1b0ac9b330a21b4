package io.millrace.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An SDK application without lz4-java on its class path, as the SDK jar does not bring it: LZ4 alone is refused with
 * UNSUPPORTED_COMPRESSION naming the artifact, on the producer's config and on reading a batch, while the other
 * codecs keep working. Millrace's classes are loaded again by a class loader that cannot see lz4-java.
 */
class CodecLibrariesAreOptionalTest {

    private URLClassLoader withoutLz4;

    @BeforeEach
    void loadMillraceWithoutLz4() {
        URL millraceClasses = CompressionType.class.getProtectionDomain().getCodeSource().getLocation();
        ClassLoader hiding = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                // io.millrace too, so that the child below loads its own copies, which then cannot find lz4-java.
                if (name.startsWith("net.jpountz.") || name.startsWith("io.millrace.")) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }
        };
        withoutLz4 = new URLClassLoader(new URL[] {millraceClasses}, hiding);
    }

    @AfterEach
    void close() throws Exception {
        withoutLz4.close();
    }

    @Test
    void lz4AloneIsRefusedNamingTheMissingLibrary() throws Exception {
        Class<?> codecs = withoutLz4.loadClass(CompressionType.class.getName());
        assertThat(codecs.getClassLoader()).isSameAs(withoutLz4);
        assertThat(call(codec(codecs, "LZ4"), "isSupported")).isEqualTo(false);
        assertThat(call(codec(codecs, "GZIP"), "isSupported")).isEqualTo(true);
        assertThat(call(codec(codecs, "SNAPPY"), "isSupported")).isEqualTo(true);

        Object defaults = withoutLz4.loadClass(ProducerConfig.class.getName()).getMethod("defaults").invoke(null);
        Method withCompression = defaults.getClass().getMethod("withCompression", codecs);
        assertUnsupportedLz4(catchThrowable(() -> withCompression.invoke(defaults, codec(codecs, "LZ4"))));
        assertThat(withCompression.invoke(defaults, codec(codecs, "ZSTD"))).isNotNull();

        assertUnsupportedLz4(catchThrowable(() -> call(wrap(batch(CompressionType.LZ4)), "records")));
        assertThat((List<?>) call(wrap(batch(CompressionType.ZSTD)), "records")).hasSize(1);
    }

    private static void assertUnsupportedLz4(Throwable thrown) throws Exception {
        Throwable cause = thrown instanceof InvocationTargetException e ? e.getCause() : thrown;
        assertThat(cause.getClass().getName()).startsWith("io.millrace.");
        assertThat(cause.getMessage()).contains("LZ4", "org.lz4:lz4-java");
        assertThat(cause.getClass().getMethod("errorCode").invoke(cause).toString())
                .isEqualTo("UNSUPPORTED_COMPRESSION");
    }

    private Object wrap(ByteBuffer batch) throws Exception {
        return withoutLz4.loadClass("io.millrace.record.RecordBatch").getMethod("wrap", ByteBuffer.class)
                .invoke(null, batch);
    }

    /** A batch built where every codec library is present. */
    private static ByteBuffer batch(CompressionType compression) {
        return new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0)
                .append(1L, null, "value".getBytes(StandardCharsets.UTF_8)).build().buffer();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object codec(Class<?> codecs, String name) {
        return Enum.valueOf((Class) codecs, name);
    }

    private static Object call(Object target, String method) throws Exception {
        return target.getClass().getMethod(method).invoke(target);
    }
}
