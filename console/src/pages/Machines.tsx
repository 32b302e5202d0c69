// Every state machine: type, versions, aliases with their routing, running executions.
import { enc, get, type Alias, type MachineItem } from "../api";
import { dateTime } from "../format";
import { href } from "../router";
import { Card, Loading, Problem, useLoad } from "../parts/common";

export function routing(alias: Alias): string {
  return alias.routing.map((route) => `v${route.version} ${route.weight}%`).join(", ");
}

export function Machines() {
  const { value, error } = useLoad(() => get<{ stateMachines: MachineItem[] }>("state-machines"), [], 3000);
  return (
    <Card title="State machines" test="machines">
      <Problem error={error} />
      {!value ? <Loading /> : value.stateMachines.length === 0 ? (
        <p class="muted">No state machines yet. Create one with <code>pinflow deploy</code>, boto3 or the AWS CLI.</p>
      ) : (
        <table class="table">
          <thead><tr><th>Name</th><th>Type</th><th>Versions</th><th>Aliases (routing)</th><th>Running</th><th>Created</th></tr></thead>
          <tbody>{value.stateMachines.map((m) => (
            <tr key={m.arn} data-test="machine-row">
              <td><a {...href(`/state-machines/${enc(m.name)}`)}>{m.name}</a></td>
              <td>{m.type}</td>
              <td>{m.versions}{m.latestVersion !== null ? <span class="muted"> (newest: {m.latestVersion})</span> : null}</td>
              <td>{m.aliases.length ? m.aliases.map((a) => <div key={a.name}><strong>{a.name}</strong>: {routing(a)}</div>) : <span class="muted">-</span>}</td>
              <td data-test="running">{m.running ?? <span class="muted">n/a</span>}</td>
              <td>{dateTime(m.creationDate)}</td>
            </tr>))}</tbody>
        </table>
      )}
    </Card>
  );
}
