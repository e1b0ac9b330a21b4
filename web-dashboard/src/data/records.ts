import type { ConsumedRecord } from '../client/millrace-client';

/** The live tail's key filter: a case-insensitive substring of the key; empty matches every record. */
export function matchesKey(record: ConsumedRecord, filter: string): boolean {
  if (!filter) return true;
  return (record.key ?? '').toLowerCase().includes(filter.toLowerCase());
}

/** Adds a push to the tail's rows: newest first, at most `max` rows. */
export function prependRecords(rows: ConsumedRecord[], records: ConsumedRecord[], max: number): ConsumedRecord[] {
  return [...records.slice().reverse(), ...rows].slice(0, max);
}
