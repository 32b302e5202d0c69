// What an execution is pinned to: the machine version or revision it runs, each function it called or
// will call (pinned or live, so whether a deploy can change it), child state machines, the role's
// grants it keeps, and the versions it keeps from deletion.
import type { Call, Pinned, StateStatus } from "../api";
import { enc } from "../api";
import { lastPart, STATE_LABEL } from "../format";
import { href } from "../router";
import { Card, Json } from "./common";

export function PinnedPanel({ pinned, running, statuses }: {
  pinned: Pinned; running: boolean; statuses: Record<string, { status: StateStatus }>;
}) {
  const m = pinned.machine;
  return (
    <Card title="Pinned to" test="pinned">
      <p data-test="pinned-machine">
        Runs {m.versionArn ? <strong>version {lastPart(m.versionArn)}</strong> : <strong>an unversioned revision</strong>} of{" "}
        <a {...href(`/state-machines/${enc(m.name)}`)}>{m.name}</a>
        {m.aliasArn ? <> (started through alias <strong>{lastPart(m.aliasArn)}</strong>)</> : null}
        {m.machineChanged ? <span class="note"> The machine's definition has changed since; this execution keeps the one it started with.</span> : null}
      </p>
      {pinned.calls.length ? (
        <table class="table pinned-calls" data-test="pinned-calls">
          <thead><tr><th>State</th><th>Calls</th><th>Reference</th><th>Runs</th><th>Role allows it</th><th>{running ? "What a deploy changes" : "Deploys"}</th><th>Step</th></tr></thead>
          <tbody>{pinned.calls.map((call, index) => (
            // A state inside a Map or Parallel is named by its path (Lines/ItemProcessor/Charge); names are
            // unique in a machine, so its last part finds its status.
            <CallRow key={index} call={call} status={statuses[call.state.split("/").pop() ?? ""]?.status ?? "not_reached"} />))}</tbody>
        </table>
      ) : <p class="muted">Its definition calls no function.</p>}
      {pinned.children.length ? (
        <div><h4>Child state machines</h4><ul>{pinned.children.map((child) => (
          <li key={child.state}>{child.state}: {child.stateMachineArn ?? "computed at run time"} ({child.live ? "live" : `pinned ${child.kind}`})</li>))}</ul></div>
      ) : null}
      <div class="role" data-test="pinned-role">
        <h4>Role</h4>
        <p><code>{pinned.role.roleArn}</code>{" "}
          {!pinned.role.managed ? <span class="muted">(not managed by pinflow's IAM: nothing is enforced)</span>
            : pinned.role.changedSinceStart
              ? <span class="note">Its policies changed since this execution started: calls to the versions it is pinned to keep the grants it started with; live calls get the new policy.</span>
              : <span class="muted">(policies unchanged since the start)</span>}
        </p>
        {pinned.role.managed ? (
          <details><summary>Policies at the start{pinned.role.changedSinceStart ? " and now" : ""}</summary>
            <div class="two"><div><h5>At the start</h5><Json value={pinned.role.policiesAtStart} /></div>
              {pinned.role.changedSinceStart ? <div><h5>Now</h5><Json value={pinned.role.policiesNow} /></div> : null}</div>
          </details>) : null}
      </div>
      {pinned.holds.length ? (
        <div data-test="pinned-holds"><h4>Kept from deletion</h4>
          <p class="muted">While it runs (and for 14 days after a failure, while it can be redriven), these versions cannot be deleted:</p>
          <ul>{pinned.holds.map((arn) => <li key={arn}><code>{arn}</code></li>)}</ul></div>
      ) : null}
    </Card>
  );
}

function CallRow({ call, status }: { call: Call; status: StateStatus }) {
  const runs = call.kind === "computed" ? "decided at run time"
    : call.kind === "alias" && call.version === null ? "the alias's target (not known yet: counted live)"
    : call.live ? "$LATEST at each call" + (call.latest?.sameCodeAs ? ` (now the code of version ${call.latest.sameCodeAs})` : "")
    : `version ${call.version}`;
  const grant = !call.grant ? "-" : !call.grant.enforced ? "not enforced"
    : call.grant.allowedNow ? "yes" : call.grant.keptByPin ? "yes, by its start-time grant" : "no";
  const deploy = call.live
    ? `A deploy of ${call.function || "any function"} changes the code this call runs`
    : "No deploy changes it";
  return (
    <tr data-test="pinned-call" data-kind={call.kind} data-live={String(call.live)}>
      <td>{call.state}</td>
      <td>{call.function ? <a {...href(`/functions/${enc(call.function)}`)}>{call.function}</a> : <code>{call.written}</code>}</td>
      <td><span class={call.live ? "badge live" : "badge pinned"} data-test="pin-kind">{call.live ? "live" : "pinned"}</span>{" "}
        <span class="muted">{call.kind}</span></td>
      <td data-test="pin-version">{runs}</td>
      <td>{grant}</td>
      <td class={call.live ? "warn" : ""}>{deploy}</td>
      <td>{STATE_LABEL[status] ?? status}</td>
    </tr>
  );
}
