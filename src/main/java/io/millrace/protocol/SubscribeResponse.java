package io.millrace.protocol;

/**
 * The subscription is open. Sent before any {@link Push} for it.
 *
 * @param startOffset the offset the start position resolved to: the first record the client will be given (records
 *                    below it in the first pushed batch are to be skipped); >= 0
 */
public record SubscribeResponse(long startOffset) implements Response {

    public SubscribeResponse {
        Require.nonNegative(startOffset, "startOffset");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.SUBSCRIBE;
    }

    void write(WireWriter w) {
        w.int64(startOffset);
    }

    static SubscribeResponse read(WireReader r) {
        return new SubscribeResponse(r.int64("startOffset"));
    }
}
