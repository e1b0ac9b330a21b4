/** Number formatting for the dashboard: compact, stable (always English separators), never "NaN". */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(abs < 10 ? 1 : 0);
  if (abs < 1e6) return `${(n / 1e3).toFixed(abs < 1e4 ? 1 : 0)}k`;
  if (abs < 1e9) return `${(n / 1e6).toFixed(abs < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

export function formatRate(perSecond: number | null | undefined): string {
  return perSecond === null || perSecond === undefined ? '—' : `${formatCount(perSecond)}/s`;
}

export function formatByteRate(perSecond: number | null | undefined): string {
  return perSecond === null || perSecond === undefined ? '—' : `${formatBytes(perSecond)}/s`;
}

/** Thousands separators for offsets: 1,234,567. */
export function formatOffset(n: number): string {
  return n < 0 ? '—' : n.toLocaleString('en-US');
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:`
    + `${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
