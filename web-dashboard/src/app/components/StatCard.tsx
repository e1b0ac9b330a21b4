import type { ComponentChildren } from 'preact';

export function StatCard(props: { label: string; value: ComponentChildren; sub?: ComponentChildren;
    tone?: 'ok' | 'warn' | 'error'; testId?: string }) {
  return (
    <div class={`stat ${props.tone ? `stat-${props.tone}` : ''}`} data-testid={props.testId}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.sub !== undefined && <div class="stat-sub">{props.sub}</div>}
    </div>
  );
}
