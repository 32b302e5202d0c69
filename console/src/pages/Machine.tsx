// One state machine: its executions, its definition as a graph and as text, its versions and aliases.
import { useState } from "preact/hooks";
import { enc, get, type ExecutionItem, type Machine as MachineData } from "../api";
import { dateTime, duration, lastPart } from "../format";
import { Graph } from "../graph/Graph";
import { href, navigate, useLocation } from "../router";
import { Card, ExecutionStatus, Field, Loading, Problem, Tabs, useLoad } from "../parts/common";
import { StartDialog } from "../parts/StartDialog";
import { routing } from "./Machines";

export function Machine({ name }: { name: string }) {
  const where = useLocation();
  const tab = where.query.get("tab") ?? "executions";
  const version = where.query.get("version") ?? "";
  const [starting, setStarting] = useState<string | null>(null);
  const { value, error } = useLoad(
    () => get<MachineData>(`state-machines/${enc(name)}${version ? `?version=${version}` : ""}`), [name, version]);
  const setTab = (id: string) => navigate(`/state-machines/${enc(name)}?tab=${id}${version ? `&version=${version}` : ""}`, true);
  if (error) return <Problem error={error} />;
  if (!value) return <Loading />;
  return (
    <div>
      <div class="page-head">
        <div><div class="crumbs"><a {...href("/")}>State machines</a> /</div><h1>{value.name}</h1></div>
        <div class="actions">
          <button class="primary" onClick={() => setStarting(value.arn)} data-test="start-execution">Start execution</button>
        </div>
      </div>
      <Card title="Details">
        <div class="fields grid">
          <Field label="ARN"><code>{value.arn}</code></Field>
          <Field label="Type">{value.type}</Field>
          <Field label="Role"><code>{value.roleArn}</code></Field>
          <Field label="Created">{dateTime(value.creationDate)}</Field>
          <Field label="Versions">{value.versions.length}</Field>
          <Field label="Aliases">{value.aliases.map((a) => `${a.name} (${routing(a)})`).join("; ") || "-"}</Field>
        </div>
      </Card>
      <Tabs tabs={[["executions", "Executions"], ["definition", "Definition"], ["versions", "Versions"], ["aliases", "Aliases"]]}
            active={tab} onChange={setTab} />
      {tab === "executions" ? <Executions name={name} type={value.type} />
        : tab === "definition" ? (
          <Card title={version ? `Definition of version ${version}` : "Definition (current)"} actions={
            <select value={version} onChange={(e) => navigate(`/state-machines/${enc(name)}?tab=definition&version=${(e.target as HTMLSelectElement).value}`, true)}>
              <option value="">Current</option>
              {value.versions.map((v) => <option key={v.version} value={String(v.version)}>Version {v.version}</option>)}
            </select>}>
            <div class="two definition">
              <Graph definition={value.definition} />
              <pre class="json definition-text" data-test="definition-text">{JSON.stringify(value.definition, null, 2)}</pre>
            </div>
          </Card>)
        : tab === "versions" ? (
          <Card title="Versions">
            {value.versions.length === 0 ? <p class="muted">No published version.</p> : (
              <table class="table">
                <thead><tr><th>Version</th><th>Created</th><th>Description</th><th>Running executions</th><th /></tr></thead>
                <tbody>{value.versions.map((v) => (
                  <tr key={v.version}>
                    <td><a {...href(`/state-machines/${enc(name)}?tab=definition&version=${v.version}`)}>Version {v.version}</a></td>
                    <td>{dateTime(v.creationDate)}</td><td>{v.description || <span class="muted">-</span>}</td>
                    <td>{v.running}</td>
                    <td><button class="small" onClick={() => setStarting(v.arn)}>Start on this version</button></td>
                  </tr>))}</tbody>
              </table>)}
          </Card>)
        : (
          <Card title="Aliases">
            {value.aliases.length === 0 ? <p class="muted">No alias.</p> : (
              <table class="table">
                <thead><tr><th>Alias</th><th>Routing</th><th>Description</th><th /></tr></thead>
                <tbody>{value.aliases.map((a) => (
                  <tr key={a.name}><td>{a.name}</td><td>{routing(a)}</td><td>{a.description || "-"}</td>
                    <td><button class="small" onClick={() => setStarting(a.arn)}>Start through this alias</button></td></tr>))}</tbody>
              </table>)}
          </Card>)}
      {starting ? <StartDialog machine={value.name} machineArn={value.arn} versions={value.versions} aliases={value.aliases}
                               target={starting} onClose={() => setStarting(null)} /> : null}
    </div>
  );
}

function Executions({ name, type }: { name: string; type: string }) {
  const [status, setStatus] = useState("");
  const [pages, setPages] = useState<(number | null)[]>([null]);
  const before = pages[pages.length - 1];
  const query = new URLSearchParams({ limit: "50" });
  if (status) query.set("status", status);
  if (before !== null) query.set("before", String(before));
  const { value, error } = useLoad(
    () => type === "STANDARD" ? get<{ executions: ExecutionItem[]; next: number | null }>(`state-machines/${enc(name)}/executions?${query}`)
                              : Promise.resolve({ executions: [], next: null }),
    [name, status, before], 2000);
  if (type !== "STANDARD") return <Card title="Executions"><p class="muted">Express executions keep no history to list (as on AWS).</p></Card>;
  return (
    <Card title="Executions" test="executions" actions={
      <select value={status} onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); setPages([null]); }}>
        <option value="">All statuses</option>
        {["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].map((s) => <option key={s} value={s}>{s}</option>)}
      </select>}>
      <Problem error={error} />
      {!value ? <Loading /> : value.executions.length === 0 ? <p class="muted">No executions.</p> : (
        <table class="table">
          <thead><tr><th>Name</th><th>Status</th><th>Version / alias</th><th>Started</th><th>Ended</th><th>Duration</th></tr></thead>
          <tbody>{value.executions.map((e) => (
            <tr key={e.executionArn} data-test="execution-row">
              <td><a {...href(`/executions/${enc(e.executionArn)}`)}>{e.name}</a></td>
              <td><ExecutionStatus status={e.status} /></td>
              <td>{e.stateMachineVersionArn ? `version ${lastPart(e.stateMachineVersionArn)}` : "unversioned"}
                {e.stateMachineAliasArn ? ` (alias ${lastPart(e.stateMachineAliasArn)})` : ""}</td>
              <td>{dateTime(e.startDate)}</td><td>{dateTime(e.stopDate)}</td><td>{duration(e.startDate, e.stopDate)}</td>
            </tr>))}</tbody>
        </table>)}
      <div class="toolbar">
        <button class="small" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>Newer</button>
        <button class="small" disabled={!value?.next} onClick={() => value?.next && setPages([...pages, value.next])}>Older</button>
      </div>
    </Card>
  );
}
