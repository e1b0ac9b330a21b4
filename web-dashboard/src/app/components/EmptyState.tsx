import type { ComponentChildren } from 'preact';

const ICONS = {
  empty: 'M4 7l8-4 8 4-8 4-8-4zM4 7v10l8 4 8-4V7M12 11v10',
  error: 'M12 8v5M12 16.5h.01M10.3 3.9L2.4 18a2 2 0 001.7 3h15.8a2 2 0 001.7-3L13.7 3.9a2 2 0 00-3.4 0z',
  loading: 'M12 3a9 9 0 109 9',
  groups: 'M8 11a3 3 0 100-6 3 3 0 000 6zM16 11a3 3 0 100-6 3 3 0 000 6zM2 20c0-3 3-5 6-5s6 2 6 5M14 15c3 0 8 1 8 5',
};

/** A centred message for a screen or panel with nothing to show: no data yet, an error, or loading. */
export function EmptyState(props: { title: string; tone?: keyof typeof ICONS; children?: ComponentChildren;
    compact?: boolean; testId?: string }) {
  const tone = props.tone ?? 'empty';
  return (
    <div class={`empty ${props.compact ? 'empty-compact' : ''} empty-${tone}`} data-testid={props.testId}>
      <svg viewBox="0 0 24 24" width={props.compact ? 28 : 40} height={props.compact ? 28 : 40} aria-hidden="true"
           class={tone === 'loading' ? 'spin' : ''}>
        <path d={ICONS[tone]} fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" />
      </svg>
      <h3>{props.title}</h3>
      {props.children && <p>{props.children}</p>}
    </div>
  );
}
