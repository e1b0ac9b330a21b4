package io.millrace.common;

/** What a Java string becomes in UTF-8, found without encoding it. Stateless. */
public final class Utf8 {

    private Utf8() {
    }

    /**
     * The number of bytes {@link String#getBytes} with UTF-8 produces, without allocating: an unpaired surrogate
     * becomes the one-byte replacement '?', as the JDK encoder does.
     */
    public static int encodedLength(String s) {
        int length = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                length += 1;
            } else if (c < 0x800) {
                length += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                length += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                length += 1;
            } else {
                length += 3;
            }
        }
        return length;
    }

    /**
     * The index of the first UTF-16 surrogate without its partner (which no UTF-8 form exists for), or -1 when
     * {@code s} is valid Unicode.
     */
    public static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }
}
