// One execution: status, timings, input and output; the graph coloured by what happened, the
// selected state's input, output, error and events; what it is pinned to; the event history; start,
// stop and redrive. A running execution updates live (the page polls its summary).
import { useEffect, useState } from "preact/hooks";
import { enc, get, post, type ExecutionPage, type Iteration, type Machine, type Summary } from "../api";
import { dateTime, duration, iterationLabel, lastPart } from "../format";
import { Graph } from "../graph/Graph";
import { href, navigate, useLocation } from "../router";
import { Card, ExecutionStatus, Field, Json, Loading, Problem, Tabs, useLoad } from "../parts/common";
import { EventsTable } from "../parts/EventsTable";
import { PinnedPanel } from "../parts/PinnedPanel";
import { StartDialog } from "../parts/StartDialog";
import { StatePanel } from "../parts/StatePanel";

const POLL_MS = 1000;

function parseIteration(text: string | null): Iteration {
  if (!text) return [];
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

export function Execution({ arn }: { arn: string }) {
  const where = useLocation();
  const selected = where.query.get("state");
  const iteration = parseIteration(where.query.get("iteration"));
  const iterationKey = JSON.stringify(iteration);
  const [tab, setTab] = useState("events");
  const [eventState, setEventState] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [restart, setRestart] = useState<Machine | null>(null);
  const summary = useLoad(
    () => get<Summary>(`executions/${enc(arn)}/summary${iteration.length ? `?iteration=${enc(iterationKey)}` : ""}`),
    [arn, iterationKey], POLL_MS, (found) => found.execution.status === "RUNNING");
  const lastEventId = summary.value?.lastEventId ?? 0;
  const status = summary.value?.execution.status;
  const page = useLoad(() => get<ExecutionPage>(`executions/${enc(arn)}`), [arn]);
  useEffect(() => setActionError(null), [arn]);
  // Read the execution again when its status moves on (its output, error, redrive count).
  useEffect(() => {
    if (status && page.value && status !== page.value.execution.status) page.reload();
  }, [status]);

  const go = (state: string | null, chosen: Iteration) => {
    const query = new URLSearchParams();
    if (state) query.set("state", state);
    if (chosen.length) query.set("iteration", JSON.stringify(chosen));
    navigate(`/executions/${enc(arn)}${query.toString() ? `?${query}` : ""}`, true);
  };
  const act = async (what: "stop" | "redrive") => {
    if (what === "stop" && !window.confirm("Stop this execution? It ends ABORTED.")) return;
    setBusy(true);
    setActionError(null);
    try {
      await post(`executions/${enc(arn)}/${what}`);
      summary.reload();
    } catch (exc) {
      setActionError(exc);
    } finally {
      setBusy(false);
    }
  };
  const again = async () => {
    try {
      setRestart(await get<Machine>(`state-machines/${enc(page.value!.execution.stateMachineName)}`));
    } catch (exc) {
      setActionError(exc);
    }
  };

  const events = (
    <>
      <Tabs tabs={[["events", "Events"], ["io", "Execution input and output"], ["definition", "Definition"]]} active={tab} onChange={setTab} />
      {tab === "events" || !page.value ? (
        <Card title="Events"><EventsTable arn={arn} lastEventId={lastEventId} state={eventState} onClearState={() => setEventState(null)} /></Card>
      ) : tab === "io" ? (
        <Card title="Execution input and output">
          <div class="two"><div><h4>Input</h4><Json text={page.value.execution.input} test="execution-input" /></div>
            <div><h4>Output</h4>{page.value.execution.output !== null ? <Json text={page.value.execution.output} test="execution-output" />
              : <p class="muted">No output.</p>}</div></div>
        </Card>
      ) : (
        <Card title="Definition it runs"><pre class="json">{JSON.stringify(page.value.definition, null, 2)}</pre></Card>
      )}
    </>
  );
  // The events table asks for its page at once: it needs nothing the other answers bring.
  if (!page.value) return <div>{page.error ? <Problem error={page.error} /> : <Loading />}{events}</div>;
  const execution = page.value.execution;
  const live = summary.value?.execution ?? execution;
  const maps = summary.value?.maps ?? {};
  return (
    <div>
      <div class="page-head">
        <div>
          <div class="crumbs"><a {...href("/")}>State machines</a> /{" "}
            <a {...href(`/state-machines/${enc(execution.stateMachineName)}`)}>{execution.stateMachineName}</a> /</div>
          <h1 data-test="execution-name">{execution.name} <ExecutionStatus status={live.status} /></h1>
        </div>
        <div class="actions">
          {live.status === "RUNNING" ? <button onClick={() => act("stop")} disabled={busy} data-test="stop">Stop execution</button> : null}
          {live.status !== "RUNNING" && ["FAILED", "TIMED_OUT", "ABORTED"].includes(live.status)
            ? <button class="primary" onClick={() => act("redrive")} disabled={busy} data-test="redrive">Redrive</button> : null}
          <button onClick={again} data-test="new-execution">New execution</button>
        </div>
      </div>
      <Problem error={actionError} />
      <Card title="Details" test="details">
        <div class="fields grid">
          <Field label="Status"><ExecutionStatus status={live.status} /></Field>
          <Field label="Execution ARN"><code>{execution.executionArn}</code></Field>
          <Field label="State machine"><a {...href(`/state-machines/${enc(execution.stateMachineName)}`)}>{execution.stateMachineName}</a>
            {execution.stateMachineVersionArn ? ` version ${lastPart(execution.stateMachineVersionArn)}` : " (unversioned)"}
            {execution.stateMachineAliasArn ? ` through alias ${lastPart(execution.stateMachineAliasArn)}` : ""}</Field>
          <Field label="Started">{dateTime(live.startDate)}</Field>
          <Field label="Ended">{dateTime(live.stopDate)}</Field>
          <Field label="Duration"><span data-test="duration">{duration(live.startDate, live.stopDate)}</span></Field>
          <Field label="Redrives">{live.redriveCount}{live.redriveDate ? ` (last ${dateTime(live.redriveDate)})` : ""}</Field>
          <Field label="Events"><span data-test="last-event">{lastEventId}</span></Field>
        </div>
        {live.error || live.cause ? (
          <div class="state-error" data-test="execution-error"><div><strong>Error</strong> <code>{live.error}</code></div>
            <div><strong>Cause</strong> <span class="cause">{live.cause}</span></div></div>) : null}
      </Card>
      <Card title="Graph view" test="graph-view" actions={iteration.length ? (
        <span class="chip">Iteration {iterationLabel(iteration)} <button class="link" onClick={() => go(selected, [])}>×</button></span>) : null}>
        <div class="graph-and-panel">
          <Graph definition={page.value.definition} statuses={summary.value?.states} maps={maps}
                 selected={selected} onSelect={(state) => go(state, iteration)} />
          {selected ? (
            <StatePanel key={selected} arn={arn} name={selected} iteration={iteration} lastEventId={lastEventId} map={maps[selected]}
                        onIteration={(chosen) => go(selected, chosen)}
                        onShowEvents={(state) => { setEventState(state); setTab("events"); }} />
          ) : <div class="state-panel muted">Select a state to see its input, output, error and events.</div>}
        </div>
      </Card>
      <PinnedPanel pinned={page.value.pinned} running={live.status === "RUNNING"} statuses={summary.value?.states ?? {}} />
      {events}
      {restart ? <StartDialog machine={restart.name} machineArn={restart.arn} versions={restart.versions} aliases={restart.aliases}
                              input={execution.input} target={execution.stateMachineVersionArn ?? execution.stateMachineAliasArn ?? restart.arn}
                              onClose={() => setRestart(null)} /> : null}
    </div>
  );
}
