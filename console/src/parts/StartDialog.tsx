// Start an execution: which target (the machine, a version or an alias), a name, and the input in an
// editor that checks the JSON as it is typed.
import { useState } from "preact/hooks";
import { enc, post, type Alias, type MachineVersion } from "../api";
import { navigate } from "../router";
import { Problem } from "./common";

export interface StartProps {
  machine: string; machineArn: string; versions: MachineVersion[]; aliases: Alias[];
  input?: string; target?: string; onClose: () => void;
}

export function StartDialog(props: StartProps) {
  const [target, setTarget] = useState(props.target ?? props.machineArn);
  const [name, setName] = useState("");
  const [input, setInput] = useState(props.input ?? '{\n  "Comment": "Insert your JSON here"\n}');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  let problem: string | null = null;
  try {
    JSON.parse(input);
  } catch (exc) {
    problem = String((exc as Error).message);
  }
  const start = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const started = await post<{ executionArn: string; express: boolean }>(
        `state-machines/${enc(props.machine)}/executions`, { target, name: name || undefined, input });
      props.onClose();
      if (!started.express) navigate(`/executions/${enc(started.executionArn)}`);
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };
  const format = () => {
    try { setInput(JSON.stringify(JSON.parse(input), null, 2)); } catch { /* shown below */ }
  };
  return (
    <div class="overlay" onClick={props.onClose}>
      <form class="dialog" onClick={(event) => event.stopPropagation()} onSubmit={start} data-test="start-dialog">
        <h2>Start execution</h2>
        <label>Run
          <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} name="target">
            <option value={props.machineArn}>{props.machine} (current definition, unversioned)</option>
            {props.versions.map((v) => <option key={v.arn} value={v.arn}>Version {v.version}</option>)}
            {props.aliases.map((a) => <option key={a.arn} value={a.arn}>Alias {a.name}</option>)}
          </select>
        </label>
        <label>Name <span class="muted">(optional; a UUID otherwise)</span>
          <input name="name" value={name} maxLength={80} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>Input
          <textarea name="input" class={problem ? "code invalid" : "code"} rows={12} spellcheck={false}
                    value={input} onInput={(e) => setInput((e.target as HTMLTextAreaElement).value)} />
        </label>
        <div class="input-check">
          {problem ? <span class="bad" data-test="input-error">Not JSON: {problem}</span> : <span class="good">Valid JSON</span>}
          <button type="button" class="link" onClick={format} disabled={!!problem}>Format</button>
        </div>
        <Problem error={error} />
        <div class="dialog-actions">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={!!problem || busy} data-test="start-submit">Start execution</button>
        </div>
      </form>
    </div>
  );
}
