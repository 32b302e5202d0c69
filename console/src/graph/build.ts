// An ASL definition as a graph for ELK: each state a node, a Parallel a box holding one box per branch
// side by side, a Map a box holding its ItemProcessor, as AWS's console draws them. Edges: Next,
// Choice rules and Default, Catch (drawn dashed), and Start/End at the top level.
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";

export type NodeKind = "state" | "start" | "end" | "parallel" | "map" | "branch";
export type EdgeKind = "next" | "choice" | "default" | "catch";

export interface NodeInfo { id: string; kind: NodeKind; state?: string; type?: string; label: string }
export interface EdgeInfo { id: string; kind: EdgeKind; label?: string }

export const START = "__start__";
export const END = "__end__";
const NODE_HEIGHT = 46;
const HEADER = 34;

export interface Built { graph: ElkNode; nodes: Map<string, NodeInfo>; edges: Map<string, EdgeInfo> }

function width(text: string, minimum = 132): number {
  return Math.max(minimum, Math.round(text.length * 7.6 + 36));
}

export function build(definition: any): Built {
  const nodes = new Map<string, NodeInfo>();
  const edges = new Map<string, EdgeInfo>();
  let counter = 0;

  function edge(from: string, to: string, kind: EdgeKind, into: ElkExtendedEdge[], label?: string): void {
    const id = `e${counter++}`;
    edges.set(id, { id, kind, label });
    into.push({ id, sources: [from], targets: [to] });
  }

  function block(raw: any, top: boolean): { children: ElkNode[]; edges: ElkExtendedEdge[] } {
    const children: ElkNode[] = [];
    const links: ElkExtendedEdge[] = [];
    const states: Record<string, any> = raw && typeof raw.States === "object" && raw.States ? raw.States : {};
    const names = new Set(Object.keys(states));
    if (top) {
      nodes.set(START, { id: START, kind: "start", label: "Start" });
      children.push({ id: START, width: 76, height: 32 });
      if (names.has(raw.StartAt)) edge(START, raw.StartAt, "next", links);
    }
    for (const [name, state] of Object.entries(states)) {
      const type = typeof state?.Type === "string" ? state.Type : "";
      children.push(stateNode(name, state, type));
      const link = (to: unknown, kind: EdgeKind, label?: string) => {
        if (typeof to === "string" && names.has(to)) edge(name, to, kind, links, label);
      };
      if (type === "Choice") {
        (Array.isArray(state.Choices) ? state.Choices : []).forEach((rule: any, index: number) =>
          link(rule?.Next, "choice", `Rule #${index + 1}`));
        link(state.Default, "default", "Default");
      } else {
        link(state?.Next, "next");
      }
      (Array.isArray(state?.Catch) ? state.Catch : []).forEach((catcher: any, index: number) =>
        link(catcher?.Next, "catch", `Catch #${index + 1}`));
      const terminal = state?.End === true || type === "Succeed" || type === "Fail";
      if (top && terminal) {
        edge(name, END, "next", links);
      }
    }
    if (top) {
      nodes.set(END, { id: END, kind: "end", label: "End" });
      children.push({ id: END, width: 76, height: 32 });
    }
    return { children, edges: links };
  }

  function stateNode(name: string, state: any, type: string): ElkNode {
    if (type === "Parallel") {
      nodes.set(name, { id: name, kind: "parallel", state: name, type, label: name });
      const branches = (Array.isArray(state.Branches) ? state.Branches : []).map((branch: any, index: number) => {
        const id = `${name}\u0000branch${index}`;
        nodes.set(id, { id, kind: "branch", label: `Branch ${index + 1}` });
        const inner = block(branch, false);
        return { id, children: inner.children, edges: inner.edges, layoutOptions: boxOptions(26, 160) };
      });
      return { id: name, children: branches, edges: [], layoutOptions: boxOptions(HEADER, header(name)) };
    }
    if (type === "Map") {
      nodes.set(name, { id: name, kind: "map", state: name, type, label: name });
      const inner = block(state.ItemProcessor ?? state.Iterator ?? {}, false);
      return { id: name, children: inner.children, edges: inner.edges,
               layoutOptions: boxOptions(HEADER + 8, header(name)) };
    }
    nodes.set(name, { id: name, kind: "state", state: name, type, label: name });
    return { id: name, width: width(name), height: NODE_HEIGHT };
  }

  const top = block(definition, true);
  const graph: ElkNode = {
    id: "root",
    layoutOptions: { ...layered(), "elk.padding": "[top=12,left=12,bottom=12,right=12]" },
    children: top.children,
    edges: top.edges,
  };
  return { graph, nodes, edges };
}

function layered(): Record<string, string> {
  return {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.edgeRouting": "ORTHOGONAL",
    "elk.spacing.nodeNode": "28",
    "elk.layered.spacing.nodeNodeBetweenLayers": "34",
    "elk.layered.spacing.edgeNodeBetweenLayers": "14",
    "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
    "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
  };
}

/** A box wide enough for its header: the state's name and "Distributed Map · 12345 iterations". */
function header(name: string): number {
  return Math.round(name.length * 7.6 + 250);
}

function boxOptions(top: number, minimumWidth: number): Record<string, string> {
  return { ...layered(), "elk.padding": `[top=${top},left=16,bottom=16,right=16]`,
           "elk.nodeSize.constraints": "MINIMUM_SIZE", "elk.nodeSize.minimum": `(${minimumWidth},60)` };
}
