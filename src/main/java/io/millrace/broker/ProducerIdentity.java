package io.millrace.broker;

/** An idempotent producer's id and epoch. */
public record ProducerIdentity(long producerId, short epoch) {
}
