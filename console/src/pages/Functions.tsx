// Functions, and on a function's page its versions and aliases, with the executions that still hold
// each version: whether it can be removed yet.
import { enc, get, type FunctionItem, type FunctionPage } from "../api";
import { dateTime, lastPart } from "../format";
import { href } from "../router";
import { Card, ExecutionStatus, Loading, Problem, useLoad } from "../parts/common";
import { routing } from "./Machines";

export function Functions() {
  const { value, error } = useLoad(() => get<{ functions: FunctionItem[] }>("functions"), [], 3000);
  return (
    <Card title="Functions" test="functions">
      <Problem error={error} />
      {!value ? <Loading /> : value.functions.length === 0 ? <p class="muted">No functions yet.</p> : (
        <table class="table">
          <thead><tr><th>Name</th><th>Runtime</th><th>Handler</th><th>Versions</th><th>Aliases (routing)</th><th>Versions held by executions</th><th>Last modified</th></tr></thead>
          <tbody>{value.functions.map((f) => (
            <tr key={f.name} data-test="function-row">
              <td><a {...href(`/functions/${enc(f.name)}`)}>{f.name}</a></td><td>{f.runtime}</td><td><code>{f.handler}</code></td>
              <td>{f.versions}</td>
              <td>{f.aliases.length ? f.aliases.map((a) => <div key={a.name}><strong>{a.name}</strong>: {routing(a)}</div>) : "-"}</td>
              <td>{f.heldVersions}</td><td>{f.lastModified}</td>
            </tr>))}</tbody>
        </table>)}
    </Card>
  );
}

export function Function({ name }: { name: string }) {
  const { value, error } = useLoad(() => get<FunctionPage>(`functions/${enc(name)}`), [name], 2000);
  if (error && !value) return <Problem error={error} />;
  if (!value) return <Loading />;
  return (
    <div>
      <div class="page-head"><div><div class="crumbs"><a {...href("/functions")}>Functions</a> /</div><h1>{value.name}</h1></div></div>
      <Card title="Versions: can this version be removed yet?" test="function-versions">
        <table class="table">
          <thead><tr><th>Version</th><th>Code SHA-256</th><th>Handler</th><th>Last modified</th><th>Aliases</th><th>Held by</th><th>Removable</th></tr></thead>
          <tbody>{value.versions.map((v) => (
            <tr key={v.version} data-test="function-version" data-version={v.version}>
              <td>{v.version}</td><td><code title={v.codeSha256}>{v.codeSha256.slice(0, 12)}…</code></td>
              <td><code>{v.handler}</code></td><td>{v.lastModified}</td>
              <td>{v.aliases.join(", ") || "-"}</td>
              <td data-test="held-by">{v.heldBy.length ? v.heldBy.map((e) => (
                <div key={e.executionArn}><a {...href(`/executions/${enc(e.executionArn)}`)}>{e.name}</a> <ExecutionStatus status={e.status} />
                  <span class="muted"> {lastPart(e.stateMachineVersionArn) ? `(${e.stateMachineName} v${lastPart(e.stateMachineVersionArn)}, started ${dateTime(e.startDate)})` : `(${e.stateMachineName})`}</span></div>))
                : <span class="muted">no execution</span>}</td>
              <td data-test="removable"><strong class={v.removable ? "good" : "bad"}>{v.removable ? "Yes" : "No"}</strong> <span class="muted">{v.why}</span></td>
            </tr>))}</tbody>
        </table>
      </Card>
      <Card title="Aliases">
        {value.aliases.length === 0 ? <p class="muted">No alias.</p> : (
          <table class="table"><thead><tr><th>Alias</th><th>Routing</th><th>Description</th></tr></thead>
            <tbody>{value.aliases.map((a) => <tr key={a.name}><td>{a.name}</td><td>{routing(a)}</td><td>{a.description || "-"}</td></tr>)}</tbody></table>)}
      </Card>
    </div>
  );
}
