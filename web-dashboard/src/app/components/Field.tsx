import type { ComponentChildren } from 'preact';

export function Field(props: { label: string; hint?: string; children: ComponentChildren; grow?: boolean }) {
  return (
    <label class={`field ${props.grow ? 'field-grow' : ''}`}>
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.hint && <span class="field-hint">{props.hint}</span>}
    </label>
  );
}

/** An inline result line under a form: success or the broker's error (code and message). */
export function FormResult(props: { result: { ok: boolean; text: string } | null; testId?: string }) {
  if (!props.result) return null;
  return (
    <div class={`form-result ${props.result.ok ? 'ok' : 'error'}`} role={props.result.ok ? 'status' : 'alert'}
         data-testid={props.testId ?? 'form-result'}>
      {props.result.text}
    </div>
  );
}
