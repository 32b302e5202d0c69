// The definition drawn as a graph laid out by ELK (in a worker, off the page's thread), each state
// coloured by its status; a state is selected by clicking it.
import ElkApi from "elkjs/lib/elk-api.js";
import type { ELK, ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import { useEffect, useMemo, useState } from "preact/hooks";
import type { MapSummary, StateStatus } from "../api";
import { STATE_LABEL } from "../format";
import { build, type Built, type NodeInfo } from "./build";

let elk: ELK | null = null;
const layouts = new Map<string, Promise<ElkNode>>();

/** Start ELK's worker (it loads its script while the page asks for its data). */
export function startLayoutWorker(): ELK {
  if (!elk) {
    const workerUrl = document.querySelector<HTMLMetaElement>('meta[name="pinflow-elk-worker"]')?.content;
    const Elk = ((ElkApi as any).default ?? ElkApi) as new (options: object) => ELK;
    elk = new Elk({ workerUrl });
  }
  return elk;
}

// Layouts are kept for the tab's session (sessionStorage): the executions of one machine share a
// definition, so moving between them, or from the machine's page to one, lays nothing out again.
const STORED = "pinflow-layout:";

function fingerprint(text: string): string {
  let hash = 0x811c9dc5;  // FNV-1a, 32 bits
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `${(hash >>> 0).toString(16)}-${text.length}`;
}

function layout(key: string, built: Built): Promise<ElkNode> {
  let found = layouts.get(key);
  if (!found) {
    const stored = STORED + fingerprint(JSON.stringify(built.graph));
    const kept = sessionStorage.getItem(stored);
    found = kept ? Promise.resolve(JSON.parse(kept) as ElkNode) : startLayoutWorker().layout(built.graph).then((graph) => {
      try { sessionStorage.setItem(stored, JSON.stringify(graph)); } catch { /* full: lay it out next time */ }
      return graph;
    });
    layouts.set(key, found);
  }
  return found;
}

export interface GraphProps {
  definition: any;
  statuses?: Record<string, { status: StateStatus; runs: number }>;
  maps?: Record<string, MapSummary>;
  selected?: string | null;
  onSelect?: (state: string) => void;
}

export function Graph(props: GraphProps) {
  const key = useMemo(() => JSON.stringify(props.definition), [props.definition]);
  const built = useMemo(() => build(props.definition), [key]);
  const [laidOut, setLaidOut] = useState<ElkNode | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [zoom, setZoom] = useState(1);
  useEffect(() => {
    let current = true;
    setFailure(null);
    layout(key, built).then((graph) => current && setLaidOut(graph))
      .catch((error) => current && setFailure(String(error)));
    return () => { current = false; };
  }, [key]);
  if (failure) return <div class="graph-box error">The graph could not be laid out: {failure}</div>;
  if (!laidOut) return <div class="graph-box muted" data-test="graph-loading">Laying out the graph…</div>;
  const width = (laidOut.width ?? 0) * zoom;
  const height = (laidOut.height ?? 0) * zoom;
  return (
    <div class="graph-box" data-test="graph">
      <div class="graph-tools">
        <button class="small" onClick={() => setZoom((z) => Math.min(2, z * 1.25))} title="Zoom in">+</button>
        <button class="small" onClick={() => setZoom((z) => Math.max(0.3, z / 1.25))} title="Zoom out">−</button>
        <button class="small" onClick={() => setZoom(1)} title="Actual size">1:1</button>
      </div>
      <div class="graph-scroll">
        <svg width={width} height={height} viewBox={`0 0 ${laidOut.width} ${laidOut.height}`} role="img"
             aria-label="State machine graph">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" class="arrow" />
            </marker>
          </defs>
          <Children node={laidOut} built={built} props={props} />
        </svg>
      </div>
      <Legend />
    </div>
  );
}

function Children({ node, built, props }: { node: ElkNode; built: Built; props: GraphProps }) {
  return (
    <>
      {(node.edges ?? []).map((edge) => <Edge key={edge.id} edge={edge} built={built} />)}
      {(node.children ?? []).map((child) => <Node key={child.id} node={child} built={built} props={props} />)}
    </>
  );
}

function Edge({ edge, built }: { edge: ElkExtendedEdge; built: Built }) {
  const info = built.edges.get(edge.id);
  return (
    <>
      {(edge.sections ?? []).map((section) => {
        const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
        const d = points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x},${p.y}`).join(" ");
        return <path key={section.id} d={d} class={`edge edge-${info?.kind ?? "next"}`} marker-end="url(#arrow)">
          {info?.label ? <title>{info.label}</title> : null}
        </path>;
      })}
    </>
  );
}

function Node({ node, built, props }: { node: ElkNode; built: Built; props: GraphProps }) {
  const info = built.nodes.get(node.id) as NodeInfo;
  const x = node.x ?? 0;
  const y = node.y ?? 0;
  const w = node.width ?? 0;
  const h = node.height ?? 0;
  if (info.kind === "start" || info.kind === "end") {
    return (
      <g transform={`translate(${x},${y})`} class="terminal">
        <rect width={w} height={h} rx={h / 2} />
        <text x={w / 2} y={h / 2 + 4} text-anchor="middle">{info.label}</text>
      </g>
    );
  }
  if (info.kind === "branch") {
    return (
      <g transform={`translate(${x},${y})`} class="branch">
        <rect width={w} height={h} rx="6" />
        <text x="10" y="17" class="box-caption">{info.label}</text>
        <Children node={node} built={built} props={props} />
      </g>
    );
  }
  const state = info.state as string;
  const status = props.statuses?.[state]?.status ?? "not_reached";
  const runs = props.statuses?.[state]?.runs ?? 0;
  const selected = props.selected === state;
  const select = (event: MouseEvent) => {
    event.stopPropagation();
    props.onSelect?.(state);
  };
  const title = `${state} (${info.type}): ${STATE_LABEL[status]}${runs > 1 ? `, ${runs} runs` : ""}`;
  if (info.kind === "map" || info.kind === "parallel") {
    const summary = info.kind === "map" ? props.maps?.[state] : undefined;
    const detail = summary ? mapCaption(summary) : info.kind === "parallel" ? "Parallel" : "Map";
    return (
      <g transform={`translate(${x},${y})`} class={`box box-${info.kind} st-${status}${selected ? " selected" : ""}`}
         data-state={state} data-status={status} data-test="state">
        {info.kind === "map" ? <rect x="5" y="5" width={w} height={h} rx="8" class="stack" /> : null}
        <rect width={w} height={h} rx="8" class="box-frame" />
        <g class="box-header" onClick={select} style="cursor:pointer">
          <rect width={w} height="30" rx="8" class="box-head" />
          <text x="12" y="20" class="box-title">{state}</text>
          <text x={w - 10} y="20" text-anchor="end" class="box-detail">{detail}</text>
          <title>{title}</title>
        </g>
        <Children node={node} built={built} props={props} />
      </g>
    );
  }
  return (
    <g transform={`translate(${x},${y})`} class={`node st-${status}${selected ? " selected" : ""}`}
       onClick={select} style="cursor:pointer" data-state={state} data-status={status} data-test="state">
      <rect width={w} height={h} rx="6" />
      <text x={w / 2} y="20" text-anchor="middle" class="node-name">{state}</text>
      <text x={w / 2} y="36" text-anchor="middle" class="node-type">{info.type}{runs > 1 ? ` · ${runs} runs` : ""}</text>
      <title>{title}</title>
    </g>
  );
}

function mapCaption(summary: MapSummary): string {
  const mode = summary.mode === "DISTRIBUTED" ? "Distributed Map" : "Map";
  if (!summary.iterations) return mode;
  return `${mode} · ${summary.iterations} iteration${summary.iterations === 1 ? "" : "s"}`;
}

function Legend() {
  return (
    <div class="legend">
      {Object.entries(STATE_LABEL).map(([status, label]) => (
        <span key={status} class={`legend-item st-${status}`}><i />{label}</span>
      ))}
    </div>
  );
}
