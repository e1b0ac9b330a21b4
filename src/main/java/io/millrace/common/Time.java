package io.millrace.common;

/**
 * The clock. Production code takes a {@code Time} instead of calling {@link System#currentTimeMillis()} so that
 * tests can drive time by hand (segment rolls, retention, session timeouts).
 */
public interface Time {

    /** The system clock. */
    Time SYSTEM = new Time() {
        @Override
        public long milliseconds() {
            return System.currentTimeMillis();
        }

        @Override
        public long nanoseconds() {
            return System.nanoTime();
        }
    };

    /** Wall-clock time in milliseconds since the epoch; used for record timestamps and age-based policies. */
    long milliseconds();

    /** A monotonic clock in nanoseconds, for measuring durations only. */
    long nanoseconds();
}
