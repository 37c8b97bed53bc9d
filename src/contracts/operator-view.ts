// What an operator reads in the Temporal UI and CLI: a workflow's static summary and details (set
// by the region when it starts one) and each activity's one-line summary (set in the workflow
// sandbox). Pure, so both sides share the wording.
import { LIFECYCLE, labelOf, type MachineStatus } from './lifecycle';
import {
  WorkflowType,
  type PowerRef,
  type ReleaseParams,
  type WorkflowParams,
  type WorkflowType as WorkflowTypeName,
} from './workflows';

/** The Operation search attribute's value for each workflow type. */
const OPERATION_OF_TYPE: Record<WorkflowTypeName, string> = {
  [WorkflowType.commission]: 'commission',
  [WorkflowType.deploy]: 'deploy',
  [WorkflowType.release]: 'release',
  [WorkflowType.test]: 'test',
  [WorkflowType.abort]: 'abort',
  [WorkflowType.enlist]: 'enlist',
  [WorkflowType.registerDeployed]: 'register-deployed',
  [WorkflowType.power]: 'power',
};

export function operationOfType(type: string): string | undefined {
  return OPERATION_OF_TYPE[type as WorkflowTypeName];
}

/** The status a lifecycle workflow starts in (the API committed it first): its MachineStatus at the start. */
const STATUS_AT_START: Partial<Record<WorkflowTypeName, MachineStatus>> = {
  [WorkflowType.commission]: LIFECYCLE.commission.inProgress,
  [WorkflowType.deploy]: LIFECYCLE.deploy.inProgress,
  [WorkflowType.release]: LIFECYCLE.release.inProgress,
  [WorkflowType.test]: LIFECYCLE.test.inProgress,
};

/** The MachineStatus search attribute's value when the region starts a workflow of this type, if it has one. */
export function statusAtStart(type: string): string | undefined {
  const status = STATUS_AT_START[type as WorkflowTypeName];
  return status === undefined ? undefined : labelOf(status);
}

const DRIVER_NAMES: Record<string, string> = {
  ipmi: 'IPMI',
  redfish: 'Redfish',
  webhook: 'webhook',
  manual: 'hand (manual power)',
  fake: 'the fake driver',
};

/** " via IPMI 10.0.0.5"; empty when the workflow's params predate the power reference. */
export function viaPower(power: PowerRef | undefined): string {
  if (!power) return '';
  const driver = DRIVER_NAMES[power.type] ?? power.type;
  return ` via ${driver}${power.address ? ` ${power.address}` : ''}`;
}

export function eraseModeOf(p: Pick<ReleaseParams, 'secureErase' | 'quickErase'>): string {
  // The same choice as the release runbook's (MAAS: secure falls back to quick, else full).
  return p.secureErase ? (p.quickErase ? 'secure,quick' : 'secure') : p.quickErase ? 'quick' : 'full';
}

export interface WorkflowDescription {
  summary: string;
  /** Temporal markdown: one `**field**: value` line each. */
  details: string;
}

/** The static summary and details a workflow of `type` starts with. */
export function describeWorkflow<T extends WorkflowTypeName>(type: T, params: WorkflowParams<T>): WorkflowDescription {
  const p = params as WorkflowParams<WorkflowTypeName> & Partial<Record<string, unknown>>;
  const host = p.hostname;
  const fields: Array<[string, string | undefined]> = [
    ['operation', operationOfType(type)],
    ['hostname', host],
    ['system_id', p.systemId],
    ['owner', p.owner],
  ];
  let summary: string;
  switch (type) {
    case WorkflowType.commission:
      summary = `Commission ${host}`;
      break;
    case WorkflowType.deploy: {
      const d = params as WorkflowParams<typeof WorkflowType.deploy>;
      summary = `Deploy ${d.distroSeries} to ${host}${d.ephemeral ? ' (ephemeral, in RAM)' : ''}`;
      fields.push(['image', d.distroSeries]);
      break;
    }
    case WorkflowType.release: {
      const r = params as WorkflowParams<typeof WorkflowType.release>;
      summary = r.erase ? `Release ${host}, erasing its disks (${eraseModeOf(r)})` : `Release ${host}`;
      break;
    }
    case WorkflowType.test:
      summary = `Test ${host}`;
      break;
    case WorkflowType.abort: {
      const a = params as WorkflowParams<typeof WorkflowType.abort>;
      summary = `Abort ${labelOf(a.from).toLowerCase()} of ${host}`;
      break;
    }
    case WorkflowType.enlist:
      summary = `Enlist ${host}`;
      break;
    case WorkflowType.registerDeployed:
      summary = `Register ${host} as already deployed`;
      break;
    case WorkflowType.power: {
      const w = params as WorkflowParams<typeof WorkflowType.power>;
      const verb = w.action === 'query' ? 'Query the power of' : `Power ${w.action}`;
      summary = `${verb} ${host}${viaPower(w.power)}`;
      break;
    }
    default:
      summary = `${type} ${host}`;
  }
  if (p.power) fields.push(['power', `${p.power.type}${p.power.address ? ` ${p.power.address}` : ''}`]);
  const details = fields
    .filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '')
    .map(([k, v]) => `**${k}**: ${v}`)
    .join('\n');
  return { summary, details };
}

/** What the workflow knows of its machine (its params), for activity summaries. */
export interface SummaryMachine {
  hostname?: string;
  power?: PowerRef;
}

/** Summaries are one line: long event texts are cut. */
const MAX_SUMMARY = 120;

const nextNetboot = (host: string, i: Record<string, unknown>): string =>
  `Set the next netboot of ${host} to ${String(i.purpose)}${i.erase ? ` (erase ${String(i.erase)})` : ''}`;

/** The one-line summary of an activity a lifecycle workflow schedules. */
export function summarizeActivity(activityType: string, input: unknown, machine: SummaryMachine | undefined): string {
  const i = (input ?? {}) as Record<string, unknown>;
  const host = machine?.hostname ?? String(i.systemId ?? 'the machine');
  const via = viaPower(machine?.power);
  const status = (s: unknown) => labelOf(s as MachineStatus);
  let text: string;
  switch (activityType) {
    case 'beginTransition':
      text = `Claim ${host}, record status ${status(i.to)}`;
      break;
    case 'finishTransition': {
      // The closing power-off's outcome rides along since lean-close.
      const power = i.powerOutcome as { state?: unknown } | undefined;
      const record = power ? `Record power state ${String(power.state)}; record` : 'Record';
      text = `${record} status ${status(i.to)}${i.message ? `: ${String(i.message)}` : ''}`;
      break;
    }
    case 'recordEvent':
      text = `Record event ${String(i.type)}: ${String(i.description)}`;
      break;
    case 'setBootPurpose':
      text = nextNetboot(host, i);
      break;
    case 'recordPowerState':
    case 'recordPowerOutcome':
      text = `Record power state ${String(i.state)}`;
      break;
    case 'recordEvents': {
      const recorded = ((i.events ?? []) as Array<{ description?: unknown }>).map((e) => String(e.description));
      // A netboot's power-on writes its boot purpose here too (lean-finish): said first, as the
      // summary is cut at MAX_SUMMARY.
      text = i.netboot
        ? `${nextNetboot(host, i.netboot as Record<string, unknown>)}; record events: ${recorded.join('; ')}`
        : `Record events: ${recorded.join('; ')}`;
      break;
    }
    case 'lastReportAge':
      text = `Read when ${host} last reported`;
      break;
    case 'setStatusMessage':
      text = `Set status message: ${String(i.message)}`;
      break;
    case 'releaseDestination':
      text = `Choose where ${host} goes after release`;
      break;
    case 'clearWorkloadAnnotations':
      text = `Clear the workload, owner and deployment of ${host}`;
      break;
    case 'powerOn':
      text = `Power on ${host}${via}`;
      break;
    case 'powerOff':
      text = `Power off ${host}${via}`;
      break;
    case 'powerCycle':
      text = `Power cycle ${host}${via}`;
      break;
    case 'queryPower':
      text = `Query the power of ${host}${via}`;
      break;
    case 'prepareBoot':
      text = `Prepare the ${String(i.purpose)} netboot of ${host} on its rack`;
      break;
    default:
      text = `${activityType} for ${host}`;
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}
