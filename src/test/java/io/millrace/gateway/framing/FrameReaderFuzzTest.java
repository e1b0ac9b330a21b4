package io.millrace.gateway.framing;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.Mutation;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of the TCP gateway's framing layer: a stream of size-prefixed frames, cut into chunks
 * wherever TCP may cut it, paused after arbitrary frames (a peer over its in-flight limit) and ended anywhere (a
 * peer that hangs up), always yields exactly the whole frames sent, in order, each once, and then exactly one end
 * that counts the bytes of the frame it ended inside. Nothing is lost, duplicated or handed out while paused.
 */
class FrameReaderFuzzTest {

    @Property(seed = Mutation.SEED)
    void everyWholeFrameOnceInOrderWhereverTheStreamIsCutPausedOrEnded(
            @ForAll("bodies") List<byte[]> bodies,
            @ForAll @Size(max = 12) List<@IntRange(min = 0, max = 4096) Integer> cuts,
            @ForAll @Size(max = 6) Set<@IntRange(min = 1, max = 12) Integer> pauseAfter,
            @ForAll("endsAt") double endsAt) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] body : bodies) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
            out.writeBytes(body);
        }
        byte[] wire = out.toByteArray();
        int sent = (int) Math.round(endsAt * wire.length);

        FrameReaderTest.FakeStream stream = new FrameReaderTest.FakeStream();
        stream.honoursPause = false; // bytes keep arriving while paused, as from a socket's last read
        List<byte[]> received = new ArrayList<>();
        List<Integer> ends = new ArrayList<>();
        FrameReader[] reader = new FrameReader[1];
        boolean[] inBody = new boolean[1];
        reader[0] = new FrameReader(stream, 4, record -> {
            if (inBody[0]) {
                received.add(record.array());
                reader[0].fixedSizeMode(4);
                if (pauseAfter.contains(received.size())) {
                    reader[0].pause();
                }
            } else {
                reader[0].fixedSizeMode(record.getInt(0));
            }
            inBody[0] = !inBody[0];
        }, ends::add);
        reader[0].start();

        TreeSet<Integer> cutPoints = new TreeSet<>();
        cuts.forEach(c -> cutPoints.add(Math.min(c, sent)));
        cutPoints.add(sent);
        int from = 0;
        for (int cut : cutPoints) {
            stream.send(wire, from, cut);
            from = cut;
        }
        stream.end();
        // Each resume hands out frames until the next pause point, so this many always reach the end.
        for (int resumes = 0; resumes <= pauseAfter.size() && ends.isEmpty(); resumes++) {
            reader[0].resume();
        }

        int whole = 0;
        int frameStart = 0;
        while (whole < bodies.size() && frameStart + 4 + bodies.get(whole).length <= sent) {
            frameStart += 4 + bodies.get(whole).length;
            whole++;
        }
        int into = sent - frameStart;
        int unfinished = into <= 4 ? into % 4 : into - 4;
        assertThat(received).containsExactlyElementsOf(bodies.subList(0, whole));
        assertThat(ends).containsExactly(unfinished);
    }

    @Provide
    Arbitrary<List<byte[]>> bodies() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(300).list().ofMaxSize(10);
    }

    /** Where the peer hangs up, as a fraction of the stream: mostly at the very end, else anywhere. */
    @Provide
    Arbitrary<Double> endsAt() {
        return Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1.0)),
                Tuple.of(1, Arbitraries.doubles().between(0, 1)));
    }
}
