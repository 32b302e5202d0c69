// The event history as AWS's console shows it: ID, Type, Step, Resource, Started after, Date and time;
// filtered by type, in pages (a 25,000-event history reads one page at a time), each row expandable.
import { useState } from "preact/hooks";
import { enc, get, type EventsPage } from "../api";
import { dateTime, iterationLabel, milliseconds } from "../format";
import { Json, Problem, useLoad } from "./common";

const SIZE = 100;

export function EventsTable({ arn, lastEventId, state, onClearState }: {
  arn: string; lastEventId: number; state?: string | null; onClearState?: () => void;
}) {
  const [page, setPage] = useState(0);
  const [type, setType] = useState("");
  const [newestFirst, setNewestFirst] = useState(false);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const query = new URLSearchParams({ page: String(page), size: String(SIZE), order: newestFirst ? "desc" : "asc" });
  if (type) query.set("types", type);
  if (state) query.set("state", state);
  // Read again only when the execution has events this page has not seen (`lastEventId` comes from the
  // page's live summary), so the first page is asked for once, at the same time as the summary.
  const [seen, setSeen] = useState(0);
  const stale = seen > 0 && lastEventId > seen ? lastEventId : 0;
  const { value, error } = useLoad(async () => {
    const found = await get<EventsPage>(`executions/${enc(arn)}/events?${query}`);
    setSeen(found.lastEventId);
    return found;
  }, [arn, page, type, newestFirst, state, stale]);
  const pages = value ? Math.max(1, Math.ceil(value.total / SIZE)) : 1;
  const toggle = (id: number) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id); else next.add(id);
    setOpen(next);
  };
  return (
    <div class="events" data-test="events">
      <div class="toolbar">
        <label>Type
          <select value={type} onChange={(e) => { setType((e.target as HTMLSelectElement).value); setPage(0); }}
                  data-test="event-type-filter">
            <option value="">All types</option>
            {(value?.types ?? []).map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        {state ? <span class="chip">Step: {state} <button class="link" onClick={onClearState}>×</button></span> : null}
        <label class="check"><input type="checkbox" checked={newestFirst}
                                    onChange={(e) => { setNewestFirst((e.target as HTMLInputElement).checked); setPage(0); }} />
          Newest first</label>
        <span class="spacer" />
        <span class="muted" data-test="event-count">{value ? `${value.total} events` : ""}</span>
        <button class="small" disabled={page === 0} onClick={() => setPage(0)}>«</button>
        <button class="small" disabled={page === 0} onClick={() => setPage(page - 1)}>‹</button>
        <span data-test="event-page">Page {page + 1} of {pages}</span>
        <button class="small" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)} data-test="next-page">›</button>
        <button class="small" disabled={page + 1 >= pages} onClick={() => setPage(pages - 1)}>»</button>
      </div>
      <Problem error={error} />
      <table class="table events-table">
        <thead><tr><th>ID</th><th>Type</th><th>Step</th><th>Resource</th><th>Started after</th><th>Date and time</th></tr></thead>
        <tbody>
          {(value?.items ?? []).map((row) => [
            <tr key={row.id} class={`event-row${open.has(row.id) ? " open" : ""}${/Failed|TimedOut|Aborted/.test(row.type) ? " bad" : ""}`}
                onClick={() => toggle(row.id)} data-test="event-row">
              <td>{open.has(row.id) ? "▾" : "▸"} {row.id}</td>
              <td>{row.type}</td>
              <td>{row.step ?? ""}{row.iteration.length ? <span class="muted"> ({iterationLabel(row.iteration)})</span> : null}</td>
              <td class="resource">{row.resource ?? ""}</td>
              <td>{milliseconds(row.elapsedMs)}</td>
              <td>{dateTime(row.timestamp)}</td>
            </tr>,
            open.has(row.id) ? <tr key={`${row.id}-details`} class="event-details"><td colSpan={6}>
              <Json value={row.details} test="event-details" /></td></tr> : null,
          ])}
        </tbody>
      </table>
    </div>
  );
}
