// The selected state: its status, input, output, error and cause, its events; for a Map, its
// iterations (select one to see its states), and the place where a Distributed Map's Map Runs go.
import { useState } from "preact/hooks";
import { enc, get, type Iteration, type IterationsPage, type MapSummary, type StateDetail } from "../api";
import { dateTime, duration, iterationLabel } from "../format";
import { Field, Json, Problem, StateBadge, Tabs, useLoad } from "./common";

export function StatePanel({ arn, name, iteration, lastEventId, map, onIteration, onShowEvents }: {
  arn: string; name: string; iteration: Iteration; lastEventId: number; map?: MapSummary;
  onIteration: (iteration: Iteration) => void; onShowEvents: (state: string) => void;
}) {
  const [tab, setTab] = useState(map ? "iterations" : "input");
  const query = iteration.length ? `?iteration=${enc(JSON.stringify(iteration))}` : "";
  const { value, error } = useLoad(() => get<StateDetail>(`executions/${enc(arn)}/states/${enc(name)}${query}`),
                                   [arn, name, query, lastEventId]);
  const tabs: [string, string][] = [["input", "Input"], ["output", "Output"], ["details", "Details"], ["events", "Events"]];
  if (map) tabs.splice(0, 0, ["iterations", map.mode === "DISTRIBUTED" ? "Iterations & Map Runs" : "Iterations"]);
  const active = tabs.some(([id]) => id === tab) ? tab : tabs[0][0];
  return (
    <div class="state-panel" data-test="state-panel">
      <div class="panel-head">
        <h3 data-test="state-name">{name}</h3>
        {value ? <StateBadge status={value.runStatus ?? value.status} /> : null}
        <span class="muted">{value?.type}</span>
      </div>
      {value?.context?.length ? <div class="muted">In iteration {iterationLabel(value.context)}</div> : null}
      <Problem error={error} />
      {value && (value.error || value.cause) ? (
        <div class="state-error" data-test="state-error">
          <div><strong>Error</strong> <code data-test="state-error-name">{value.error ?? "-"}</code></div>
          <div><strong>Cause</strong> <span class="cause">{value.cause ?? "-"}</span></div>
        </div>
      ) : null}
      <Tabs tabs={tabs} active={active} onChange={setTab} />
      {!value ? null : active === "iterations" && map ? (
        <Iterations arn={arn} name={name} iteration={iteration} map={map} onIteration={onIteration} lastEventId={lastEventId} />
      ) : active === "input" ? (
        value.input ? <Json value={value.input.value} test="state-input" /> : <div class="muted">Not entered yet.</div>
      ) : active === "output" ? (
        value.output ? <Json value={value.output.value} test="state-output" /> : <div class="muted">No output (yet).</div>
      ) : active === "details" ? (
        <div class="fields">
          <Field label="Status"><StateBadge status={value.runStatus ?? value.status} /></Field>
          <Field label="Type">{value.type}</Field>
          {value.runs > 1 ? <Field label="Runs">{value.runs} (one per iteration)</Field> : null}
          <Field label="Entered">{dateTime(value.enteredAt)}</Field>
          <Field label="Exited">{dateTime(value.exitedAt)}</Field>
          <Field label="Duration">{value.enteredAt ? duration(value.enteredAt, value.exitedAt ?? value.failedAt ?? null) : "-"}</Field>
          <Field label="Retries">{value.retries ?? 0}</Field>
          <Field label="Definition"><Json value={value.definition} /></Field>
        </div>
      ) : (
        <div>
          <table class="table compact">
            <thead><tr><th>ID</th><th>Type</th><th>Date and time</th></tr></thead>
            <tbody>{value.events.map((row) => (
              <tr key={row.id}><td>{row.id}</td><td>{row.type}</td><td>{dateTime(row.timestamp)}</td></tr>))}</tbody>
          </table>
          <button class="link" onClick={() => onShowEvents(name)}>
            {value.eventCount > value.events.length ? `All ${value.eventCount} events` : "Show"} in the event history
          </button>
        </div>
      )}
    </div>
  );
}

function Iterations({ arn, name, iteration, map, onIteration, lastEventId }: {
  arn: string; name: string; iteration: Iteration; map: MapSummary; lastEventId: number;
  onIteration: (iteration: Iteration) => void;
}) {
  const [offset, setOffset] = useState(0);
  const [status, setStatus] = useState("");
  const LIMIT = 50;
  const query = new URLSearchParams({ offset: String(offset), limit: String(LIMIT) });
  if (status) query.set("status", status);
  if (map.context.length) query.set("iteration", JSON.stringify(map.context));
  const { value, error } = useLoad(
    () => map.complete ? get<IterationsPage>(`executions/${enc(arn)}/maps/${enc(name)}/iterations?${query}`)
                       : Promise.resolve(null),
    [arn, name, offset, status, map.complete, JSON.stringify(map.context), lastEventId]);
  const chosen = iteration.find(([map_]) => map_ === name)?.[1];
  // The Maps around this one keep their selected iterations (map.context); this one's is replaced.
  const choose = (index: number | null) => onIteration(index === null ? map.context : [...map.context, [name, index]]);
  return (
    <div class="iterations" data-test="iterations">
      <div class="muted">{map.iterations} iteration(s): {Object.entries(map.byStatus).map(([s, n]) => `${n} ${s.replace("_", " ")}`).join(", ") || "none yet"}.
        Select one to colour the states inside the Map for it.</div>
      {!map.complete ? <div class="muted">Select an iteration of the Map around this one first.</div> : null}
      <Problem error={error} />
      <div class="toolbar">
        <select value={status} onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); setOffset(0); }}>
          <option value="">All statuses</option>
          {["in_progress", "succeeded", "failed", "cancelled"].map((s) => <option key={s} value={s}>{s.replace("_", " ")}</option>)}
        </select>
        {chosen !== undefined ? <button class="small" onClick={() => choose(null)}>Show all iterations</button> : null}
        <span class="spacer" />
        <button class="small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - LIMIT))}>‹</button>
        <span>{value ? `${Math.min(offset + 1, value.total)}–${Math.min(offset + LIMIT, value.total)} of ${value.total}` : ""}</span>
        <button class="small" disabled={!value || offset + LIMIT >= value.total} onClick={() => setOffset(offset + LIMIT)}>›</button>
      </div>
      <div class="iteration-grid">
        {(value?.items ?? []).map((item) => (
          <button key={item.index} class={`iteration st-${item.status}${chosen === item.index ? " selected" : ""}`}
                  onClick={() => choose(item.index)} data-test="iteration" title={item.status}>#{item.index}</button>
        ))}
      </div>
      <div class="map-runs" data-test="map-runs">
        <h4>Map Runs</h4>
        {map.mapRuns.length ? (
          <ul>{map.mapRuns.map((run) => <li key={run.mapRunArn}>{run.mapRunArn} ({run.status})</li>)}</ul>
        ) : (
          <div class="muted">{map.mode === "DISTRIBUTED"
            ? "This Distributed Map runs its iterations inline for now: its Map Run and child executions will be listed here."
            : "An inline Map has no Map Run: its iterations are above."}</div>
        )}
      </div>
    </div>
  );
}
