import '@xyflow/react/dist/style.css';
import { Background, Controls, type Edge, Handle, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import type { ElkNode } from 'elkjs/lib/elk.bundled.js';
import { createContext, memo, useContext, useEffect, useMemo, useState } from 'react';
import { STEP_STATUSES, type Step, type StepStatus, type Wait } from '../api/types.js';
import { statusLabel } from '../format.js';
import { pendingWaitsOf, waitingLong, waitingShort } from '../waits/describe.js';
import { WaitIcon } from './WaitIcon.js';

const NODE_WIDTH = 184;
const NODE_HEIGHT = 60;
const MIN_HEIGHT_PX = 220;
const MAX_HEIGHT_PX = 560;

interface StepNodeData extends Record<string, unknown> {
  name: string;
  status: StepStatus;
  attempts: number;
  childCount: number;
  isSelected: boolean;
  /** A waiting step: what for and until when, short (drawn) and in full (its name and tooltip). */
  waiting: { short: string; long: string } | null;
}
type StepNodeType = Node<StepNodeData, 'step'>;

const SelectStepContext = createContext<(name: string) => void>(() => {});

/**
 * One step: a button named "step <name>: <status>" (the colour repeats what the text says). A
 * waiting step has a clock for its dot and says what it waits for and until when.
 * React Flow leaves a node that is neither draggable nor selectable without pointer events; the
 * button takes them back (see .dag-node in the stylesheet).
 */
const StepNode = memo(function StepNode({ data }: NodeProps<StepNodeType>) {
  const select = useContext(SelectStepContext);
  const details = [data.waiting ? data.waiting.short : statusLabel(data.status)];
  if (data.attempts > 1) details.push(`${data.attempts} attempts`);
  if (data.childCount > 0) details.push(`${data.childCount.toLocaleString()} children`);
  const status = data.waiting ? data.waiting.long : statusLabel(data.status);
  return (
    <>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <button
        type="button"
        className={`dag-node nodrag nopan status-${data.status}${data.isSelected ? ' is-selected' : ''}`}
        aria-label={`step ${data.name}: ${status}`}
        title={data.waiting ? data.waiting.long : undefined}
        aria-pressed={data.isSelected}
        onClick={() => select(data.name)}
      >
        <span className="dag-node__name">{data.name}</span>
        <span className="dag-node__meta">
          {data.waiting ? <WaitIcon /> : <span className="badge__dot" aria-hidden="true" />}
          <span className="dag-node__details">{details.join(' · ')}</span>
        </span>
      </button>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </>
  );
});

const nodeTypes = { step: StepNode };

interface Layout {
  shapeKey: string;
  positions: Map<string, { x: number; y: number }>;
  height: number;
}

type Elk = InstanceType<typeof import('elkjs/lib/elk.bundled.js').default>;
let elkInstance: Promise<Elk> | undefined;
/** elkjs is large: it is loaded (as its own chunk) the first time a graph is drawn. */
function loadElk(): Promise<Elk> {
  elkInstance ??= import('elkjs/lib/elk.bundled.js').then(({ default: ELK }) => new ELK());
  return elkInstance;
}

/** Layered, top-down: parents above their children, as the DAG runs. */
async function layOut(steps: readonly Pick<Step, 'name' | 'parents'>[]): Promise<Omit<Layout, 'shapeKey'>> {
  const names = new Set(steps.map((s) => s.name));
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.spacing.nodeNode': '36',
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: steps.map((s) => ({ id: s.name, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: steps.flatMap((s) =>
      s.parents.filter((p) => names.has(p)).map((p) => ({ id: `${p}->${s.name}`, sources: [p], targets: [s.name] })),
    ),
  };
  const elk = await loadElk();
  const laidOut = await elk.layout(graph);
  const positions = new Map<string, { x: number; y: number }>();
  for (const child of laidOut.children ?? []) positions.set(child.id, { x: child.x ?? 0, y: child.y ?? 0 });
  return { positions, height: laidOut.height ?? NODE_HEIGHT };
}

/** The workflow's steps (from the run's detail, so pending ones are there too), coloured live. */
export function DagView(props: {
  steps: readonly Step[];
  waits: readonly Wait[];
  childCounts: Readonly<Record<string, number>>;
  selectedStep: string | undefined;
  onSelectStep: (name: string) => void;
}) {
  const { steps, waits, childCounts, selectedStep, onSelectStep } = props;
  const shapeKey = steps.map((s) => `${s.name}<${s.parents.join(',')}`).join('|');
  const [layout, setLayout] = useState<Layout | undefined>(undefined);
  const [layoutError, setLayoutError] = useState<string | undefined>(undefined);

  // The shape (names and parents) is all the layout depends on; statuses change colours only.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `steps` is read through `shapeKey`
  useEffect(() => {
    let isCurrent = true;
    layOut(steps)
      .then((result) => isCurrent && setLayout({ shapeKey, ...result }))
      .catch((error: unknown) => isCurrent && setLayoutError(String(error)));
    return () => {
      isCurrent = false;
    };
  }, [shapeKey]);

  const nodes = useMemo<StepNodeType[]>(() => {
    if (!layout) return [];
    return steps.map((step) => ({
      id: step.name,
      type: 'step',
      position: layout.positions.get(step.name) ?? { x: 0, y: 0 },
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      // Without `measured`, React Flow treats every new node object as unmeasured and drops its
      // handle positions, and the edges vanish after a live update until something resizes.
      measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
      draggable: false,
      selectable: false,
      focusable: false,
      data: {
        name: step.name,
        status: step.status,
        attempts: step.attempts,
        childCount: childCounts[step.name] ?? 0,
        isSelected: step.name === selectedStep,
        waiting: step.status === 'waiting' ? waitingOf(pendingWaitsOf(waits, step.name)) : null,
      },
    }));
  }, [steps, waits, layout, childCounts, selectedStep]);

  const edges = useMemo<Edge[]>(() => {
    const byName = new Map(steps.map((s) => [s.name, s]));
    return steps.flatMap((step) =>
      step.parents
        .filter((parent) => byName.has(parent))
        .map((parent) => ({
          id: `${parent}->${step.name}`,
          source: parent,
          target: step.name,
          focusable: false,
          animated: step.status === 'running' || step.status === 'queued',
          className: `edge status-${step.status}`,
        })),
    );
  }, [steps]);

  if (layoutError) return <p className="banner banner--error">Could not lay out the graph: {layoutError}</p>;
  if (!layout || layout.shapeKey !== shapeKey) return <div className="dag dag--loading">Laying out the graph…</div>;
  const heightPx = Math.min(MAX_HEIGHT_PX, Math.max(MIN_HEIGHT_PX, layout.height + 80));
  return (
    <SelectStepContext.Provider value={onSelectStep}>
      <div className="dag" style={{ height: heightPx }}>
        <ReactFlow
          key={shapeKey}
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          fitView
          fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
          minZoom={0.2}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          elementsSelectable={false}
          zoomOnScroll={false}
          preventScrolling={false}
          zoomOnDoubleClick={false}
        >
          <Background gap={20} size={1} />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
    </SelectStepContext.Provider>
  );
}

function waitingOf(pending: readonly Wait[]): { short: string; long: string } {
  return { short: waitingShort(pending), long: waitingLong(pending) };
}

export function StepLegend() {
  return (
    <ul className="legend" aria-label="Step status legend">
      {STEP_STATUSES.map((status) => (
        <li key={status} className={`status-${status}`}>
          <span className="legend__swatch" aria-hidden="true" />
          {status === 'waiting' && <WaitIcon />}
          {statusLabel(status)}
        </li>
      ))}
    </ul>
  );
}
