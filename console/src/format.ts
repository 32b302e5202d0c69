// How times, durations and statuses read on the page.

export function dateTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "-";
  const date = new Date(seconds * 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function duration(start: number | null | undefined, stop: number | null | undefined): string {
  if (start === null || start === undefined) return "-";
  const end = stop ?? Date.now() / 1000;
  return milliseconds(Math.max(0, (end - start) * 1000));
}

export function milliseconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export const STATE_LABEL: Record<string, string> = {
  not_reached: "Not reached", in_progress: "In progress", succeeded: "Succeeded", failed: "Failed",
  caught: "Caught error", cancelled: "Cancelled",
};

export const EXECUTION_LABEL: Record<string, string> = {
  RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed", TIMED_OUT: "Timed out", ABORTED: "Aborted",
  PENDING_REDRIVE: "Pending redrive",
};

export function lastPart(arn: string | null | undefined): string {
  return arn ? arn.slice(arn.lastIndexOf(":") + 1) : "";
}

/** A JSON value shown as indented JSON (a string value keeps its quotes). */
export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** JSON text (an execution's input or output) indented; shown as it is when it does not parse. */
export function prettyText(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function iterationLabel(iteration: [string, number][]): string {
  return iteration.map(([map, index]) => `${map} #${index}`).join(" › ");
}
