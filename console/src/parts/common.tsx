// Small pieces every page uses: status badges, JSON blocks, tabs, loading and error lines.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";
import { EXECUTION_LABEL, pretty, prettyText, STATE_LABEL } from "../format";

export function ExecutionStatus({ status }: { status: string }) {
  return <span class={`badge ex-${status}`} data-test="execution-status">{EXECUTION_LABEL[status] ?? status}</span>;
}

export function StateBadge({ status }: { status: string }) {
  return <span class={`badge st-${status}`}>{STATE_LABEL[status] ?? status}</span>;
}

/** A JSON value; or JSON text (`text`), as an execution's input and output come. */
export function Json({ value, text, test }: { value?: unknown; text?: string; test?: string }) {
  if (text !== undefined) return <pre class="json" data-test={test}>{prettyText(text)}</pre>;
  if (value === undefined) return <pre class="json muted">-</pre>;
  return <pre class="json" data-test={test}>{pretty(value)}</pre>;
}

export function Tabs({ tabs, active, onChange }: { tabs: [string, string][]; active: string; onChange: (id: string) => void }) {
  return (
    <div class="tabs" role="tablist">
      {tabs.map(([id, label]) => (
        <button key={id} role="tab" class={id === active ? "tab active" : "tab"} aria-selected={id === active}
                onClick={() => onChange(id)}>{label}</button>
      ))}
    </div>
  );
}

export function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
  return <div class="problem" role="alert">{text}</div>;
}

export function Loading() {
  return <div class="muted loading">Loading…</div>;
}

export function Card({ title, children, actions, test }: { title: ComponentChildren; children: ComponentChildren; actions?: ComponentChildren; test?: string }) {
  return (
    <section class="card" data-test={test}>
      <header class="card-head"><h2>{title}</h2>{actions ? <div class="actions">{actions}</div> : null}</header>
      <div class="card-body">{children}</div>
    </section>
  );
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return <div class="field"><div class="field-label">{label}</div><div class="field-value">{children}</div></div>;
}

/** Load a value now, again when `deps` change, and every `every` ms while `live` says so. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], every = 0, live?: (value: T) => boolean) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const ticket = ++latest.current;
    let timer: number | undefined;
    load().then((found) => {
      if (ticket !== latest.current) return;
      setValue(found);
      setError(null);
      if (every && (!live || live(found))) timer = window.setTimeout(() => setTick((n) => n + 1), every);
    }, (problem) => {
      if (ticket !== latest.current) return;
      setError(problem);
      if (every) timer = window.setTimeout(() => setTick((n) => n + 1), every * 2);
    });
    return () => window.clearTimeout(timer);
  }, [...deps, tick]);
  return { value, error, reload: () => setTick((n) => n + 1), setValue };
}
