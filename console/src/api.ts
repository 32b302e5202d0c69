// The console's JSON routes, and the shapes they answer.

export const PREFIX = "/console";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Called when a route answers 401: the session ended (or never began). */
let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const response = await fetch(`${PREFIX}/api/${path}`, init);
  const text = await response.text();
  let value: any = null;
  try {
    value = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(response.status, "BadAnswer", `The server answered ${response.status} with no JSON`);
  }
  if (!response.ok) {
    if (response.status === 401) onSignedOut();
    throw new ApiError(response.status, value?.error ?? "Error", value?.message ?? response.statusText);
  }
  return value as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body: unknown = {}) => call<T>("POST", path, body);
export const remove = <T>(path: string) => call<T>("DELETE", path);

export const enc = encodeURIComponent;

export type Status = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";
export type StateStatus = "not_reached" | "in_progress" | "succeeded" | "failed" | "caught" | "cancelled";
export type Iteration = [string, number][];

export interface Session { authRequired: boolean; signedIn: boolean; accessKeyId: string | null }

export interface Routing { version: number | string; weight: number }
export interface Alias { name: string; arn: string; description: string; routing: Routing[] }

export interface MachineItem {
  name: string; arn: string; type: string; creationDate: number; versions: number;
  latestVersion: number | null; aliases: Alias[]; running: number | null;
}

export interface MachineVersion {
  version: number; arn: string; running: number; creationDate: number; description: string;
}

export interface Machine {
  name: string; arn: string; type: string; status: string;
  shown: { version: number | null; arn: string; revisionId: string | null; description: string | null };
  definition: any; definitionText: string; roleArn: string; creationDate: number;
  versions: MachineVersion[]; aliases: Alias[];
}

export interface ExecutionItem {
  executionArn: string; name: string; stateMachineName: string; status: Status; startDate: number;
  stopDate: number | null; stateMachineVersionArn: string | null; stateMachineAliasArn: string | null;
  redriveCount: number; redriveDate: number | null; error?: string | null; cause?: string | null;
}

export interface Execution extends ExecutionItem {
  input: string; output: string | null; error: string | null; cause: string | null; roleArn: string;
  revisionId: string; redrivable: boolean;
}

export interface Grant {
  enforced: boolean; allowed: boolean; allowedNow?: boolean; allowedAtStart?: boolean; keptByPin?: boolean;
}

export interface Call {
  state: string; function: string; written: string; kind: "version" | "alias" | "latest" | "computed";
  version: string | null; live: boolean; describe: string; calledArn?: string;
  pinnedRef?: boolean; grant?: Grant;
  latest?: { codeSha256?: string; sameCodeAs?: string | null; lastModified?: string; missing?: boolean; message?: string } | null;
}

export interface Pinned {
  machine: { name: string; versionArn: string | null; aliasArn: string | null; revisionId: string;
             machineRevisionId: string | null; machineChanged: boolean };
  calls: Call[];
  children: { state: string; stateMachineArn: string | null; kind: string; live: boolean }[];
  role: { roleArn: string; managed: boolean; policiesAtStart: any; policiesNow: any; changedSinceStart: boolean };
  holds: string[];
}

export interface ExecutionPage { execution: Execution; definition: any; pinned: Pinned }

export interface MapSummary {
  context: Iteration; complete: boolean; iterations: number; byStatus: Record<string, number>;
  mode: "INLINE" | "DISTRIBUTED"; mapRuns: { mapRunArn: string; status: string }[];
}

export interface Summary {
  execution: ExecutionItem; lastEventId: number;
  states: Record<string, { status: StateStatus; runs: number }>;
  maps: Record<string, MapSummary>;
}

export interface EventRow {
  id: number; previousEventId: number; type: string; timestamp: number; elapsedMs: number | null;
  step: string | null; iteration: Iteration; resource: string | null; details: any;
}

export interface EventsPage {
  total: number; page: number; size: number; types: string[]; lastEventId: number; items: EventRow[];
}

export interface StateDetail {
  name: string; type: string; status: StateStatus; runs: number; definition: any; runStatus?: StateStatus;
  context?: Iteration; retries?: number; enteredAt?: number | null; exitedAt?: number | null;
  input?: { value: any } | null; output?: { value: any } | null; error?: string | null; cause?: string | null;
  failedAt?: number; eventCount: number; events: EventRow[];
}

export interface IterationsPage { context: Iteration; total: number; items: { index: number; status: StateStatus }[] }

export interface FunctionItem {
  name: string; arn: string; runtime: string; handler: string; lastModified: string; versions: number;
  aliases: Alias[]; heldVersions: number;
}

export interface FunctionVersion {
  version: string; arn: string; codeSha256: string; handler: string; runtime: string; lastModified: string;
  description: string; aliases: string[]; heldBy: ExecutionItem[]; removable: boolean; why: string;
}

export interface FunctionPage { name: string; arn: string; versions: FunctionVersion[]; aliases: Alias[] }
