// What machines tell the metadata server, turned into events and signals for their workflow.
import type { DataSource, EntityManager } from 'typeorm';
import { MachineStatus as S } from '../../contracts/lifecycle';
import { lifecycleWorkflowId, type MachineSignal, type MachineSignalStatus } from '../../contracts/workflows';
import type { Machine } from '../db/entities';
import { ConflictError, ValidationError } from '../errors';
import type { BootResourceService } from './boot-resources';
import { recordEvent } from './events';
import { applyHardwareReport, HARDWARE_FILE, parseHardwareReport } from './hardware';
import { renderNetworkConfig } from './network/deploy-network-config';
import { loadMachineNetwork } from './network/machine-network-model';
import { repeatsLatestSignal, reportDigest, reportKey } from './report-repeats';
import type { ScriptResultService } from './scripts/script-results';
import { hardwareFromCommissioningOutput, LSHW_SCRIPT, RESOURCES_SCRIPT } from './hardware/commissioning-output';
import { regenerateTestingRuns } from './scripts/script-regeneration';
import { checkSignal, eventText, SIGNAL_LIMITS } from './signal-limits';
import type { StorageService } from './storage/storage-service';
import { populateTagsForMachine } from './tags';
import { lockMachine } from './transitions';
import type { WorkflowGateway } from './workflow-gateway';
import { keepProgressReport } from './machine-progress';
import { pendingStartOf } from './workflow-starts';

const SIGNAL_STATUSES: MachineSignalStatus[] = [
  'OK',
  'FAILED',
  'WORKING',
  'COMMISSIONING',
  'TESTING',
  'TIMEDOUT',
  'INSTALLING',
  'RELEASING',
  'DEPLOYING',
];

export interface SignalInput {
  status: string;
  error: string;
  files: Map<string, Buffer>;
  /** MAAS's per-script fields: which result the files are, how it ended, how long it ran. */
  scriptResultId?: number;
  exitStatus?: number;
  runtime?: number;
  name?: string;
}

export class MetadataService {
  constructor(
    private readonly db: DataSource,
    private readonly workflows: WorkflowGateway,
    private readonly images?: Pick<BootResourceService, 'named'>,
    private readonly storage?: Pick<StorageService, 'installerStorage'>,
    private readonly scripts?: Pick<
      ScriptResultService,
      | 'storeSignal'
      | 'endCommissioning'
      | 'endTesting'
      | 'latestOutput'
      | 'currentRunOutput'
      | 'hasTests'
      | 'testsStarted'
    >,
  ) {}

  /** `op=signal`: store results, record the event, wake the workflow. */
  async signal(machine: Machine, input: SignalInput): Promise<void> {
    const status = input.status.toUpperCase() as MachineSignalStatus;
    if (!SIGNAL_STATUSES.includes(status))
      throw ValidationError.field(
        'status',
        `Unknown status '${input.status}'; expected one of ${SIGNAL_STATUSES.join(', ')}.`,
      );
    checkSignal(input.error, input.files);
    // Validated whole before the transaction: a bad report stores nothing, not even the event.
    const hardware = input.files.get(HARDWARE_FILE);
    const report = hardware ? parseHardwareReport(hardware) : undefined;
    const files = [...input.files.keys()];
    const event = {
      type: status === 'FAILED' ? 'Script result failed' : 'Node status event',
      description: `Signal ${status}${input.error ? `: ${input.error}` : ''}${files.length ? ` (files: ${files.join(', ')})` : ''}`,
      level: status === 'FAILED' ? ('ERROR' as const) : ('INFO' as const),
    };
    const digest = reportDigest(
      [status, input.error, input.scriptResultId, input.exitStatus, input.runtime, input.name],
      input.files,
    );
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, machine.systemId);
      // Under the row lock: a retry racing its own original sees the original's event.
      if (await repeatsLatestSignal(tx, m.id, m.claimToken, digest)) return;
      if (report && (m.status === S.COMMISSIONING || m.status === S.DEPLOYED)) await applyHardwareReport(tx, m, report);
      // A deployed machine's own successful report (maas-run-scripts report-results) stands in
      // for commissioning: it shows as commissioned, and release returns it to READY, not NEW.
      if (report && m.status === S.DEPLOYED && status === 'OK' && !m.commissioningPassed) {
        await tx.query(`UPDATE machines SET commissioning_passed = true WHERE id = $1`, [m.id]);
      }
      // Per-script results of the run (MAAS's _store_results), then MAAS's end of commissioning:
      // a failed script fails it, else the automatic tags are recomputed for the machine.
      let failed = status === 'FAILED';
      let message = input.error;
      let commissioningFailed = false;
      // Whether this report ends a run that reached its tests (MachineSignal.machineStatus).
      let testing = m.status === S.TESTING;
      if (this.scripts) {
        await this.scripts.storeSignal(tx, m, input);
        await this.applyCommissioningOutput(tx, m, input);
        // A FAILED that ends a commissioning whose tests had started (their results came in): the
        // tests failed it, even if the workflow never heard the environment's TESTING report, and
        // commissioning ended when they began.
        const testsBegan =
          status === 'FAILED' && m.status === S.COMMISSIONING && (await this.scripts.testsStarted(tx, m));
        // TESTING ends commissioning too (MAAS's _process_commissioning): the environment goes on to the tests.
        if ((status === 'OK' || status === 'TESTING' || testsBegan) && m.status === S.COMMISSIONING) {
          const scripts = await this.scripts.endCommissioning(tx, m.id);
          if (scripts.length > 0) {
            failed = commissioningFailed = true;
            message = `Commissioning script${scripts.length > 1 ? 's' : ''} failed: ${scripts.join(', ')}`;
          } else {
            await populateTagsForMachine(tx, m.id);
            // Commissioning passed even if the tests then fail (release then returns it to READY).
            const hasTests = await this.scripts.hasTests(tx, m);
            if (status === 'TESTING' || hasTests)
              await tx.query(`UPDATE machines SET commissioning_passed = true WHERE id = $1`, [m.id]);
            // An OK from an environment that skipped its tests ends them too (found not run).
            testing ||= hasTests;
          }
        }
        // The end of the run's tests: a failed one, or one that never reported, fails it, named in
        // status_message (FAILED_TESTING).
        if (!commissioningFailed && (status === 'OK' || status === 'FAILED') && testing) {
          const ended = await this.scripts.endTesting(tx, m);
          const problems = [
            ended.failed.length > 0 &&
              `Testing script${ended.failed.length > 1 ? 's' : ''} failed: ${ended.failed.join(', ')}`,
            ended.notRun.length > 0 &&
              `Testing script${ended.notRun.length > 1 ? 's' : ''} never reported a result: ${ended.notRun.join(', ')}`,
          ].filter((p): p is string => typeof p === 'string');
          if (problems.length > 0) {
            failed = true;
            message = problems.join('; ');
          }
        }
      }
      // The end of a commissioning run: its skip_networking / skip_storage were for its reports only.
      const runEnds = status === 'OK' || status === 'FAILED' || status === 'TESTING';
      if (runEnds && m.status === S.COMMISSIONING && (m.skipNetworking || m.skipStorage))
        await tx.query(`UPDATE machines SET skip_networking = false, skip_storage = false WHERE id = $1`, [m.id]);
      // The event as sent (what a retry is compared with), unless the end of commissioning failed it.
      await recordEvent(
        tx,
        m.id,
        failed === (status === 'FAILED') && message === input.error
          ? { ...event, claimToken: m.claimToken, reportDigest: digest }
          : {
              claimToken: m.claimToken,
              reportDigest: digest,
              type: 'Script result failed',
              description: `Signal ${status}${message ? `: ${message}` : ''}${files.length ? ` (files: ${files.join(', ')})` : ''}`,
              level: 'ERROR',
            },
      );
      // Inside the transaction: when Temporal cannot take the signal, the machine gets a 503 and
      // nothing is written, so its retry does not record the event twice. The row lock held
      // meanwhile makes the workflow's next activity wait for this commit.
      // The workflow makes the move to TESTING itself (its abort and failure paths know where the
      // machine is); a final report that ends a run which reached its tests says so, so the move
      // is made even when the TESTING report (a sign of life, which may be dropped) never got there.
      await this.deliver(tx, machine.systemId, {
        kind: status === 'OK' || failed ? 'signal' : 'progress',
        status: failed ? 'FAILED' : status,
        message,
        machineStatus: testing && (status === 'OK' || status === 'FAILED') ? S.TESTING : m.status,
      });
    });
  }

  /**
   * A report to the machine's workflow. The API commits an operation's status change before it
   * starts its workflow (services/workflow-starts.ts): a machine already running (powered by
   * hand, or a test's) may report in between, and its report then makes the recorded start
   * happen rather than being dropped.
   */
  private async deliver(tx: EntityManager, systemId: string, report: MachineSignal): Promise<void> {
    const workflowId = lifecycleWorkflowId(systemId);
    if (await this.keptQuietly(tx, systemId, report)) return;
    if (await this.workflows.signal(workflowId, report)) return;
    // Only a sign of life starts it: a final report (OK, FAILED, deployed-os) in that gap is a
    // stale one from the machine's previous operation (this one has not powered it on yet), and a
    // new run must not take it for its own result.
    if (report.kind !== 'progress') return;
    const pending = await pendingStartOf(tx, systemId);
    if (pending)
      await this.workflows.signalWithStart(pending.type, pending.workflowId, pending.params as never, report);
  }

  /**
   * A sign of life for a workflow that reads the machine's last report when its deadline comes
   * (machine_progress.quiet, set by its claim): only its time is kept, no signal, so a commissioning
   * whose scripts each report (or a deployment's cloud-init events) costs no workflow task per
   * report. TESTING is a step the workflow takes, and a start still owed is made by the report
   * (deliver): both are signalled as before.
   */
  private async keptQuietly(tx: EntityManager, systemId: string, report: MachineSignal): Promise<boolean> {
    if (report.kind !== 'progress' || report.status === 'TESTING') return false;
    return keepProgressReport(tx, systemId);
  }

  /**
   * MAAS's environment reports the hardware as 50-maas-01-commissioning's output (the resources
   * JSON) and 00-maas-01-lshw's XML (how the machine booted: UEFI or BIOS). Both run in the same
   * parallel batch, so either may come first: each, passed, (re)makes the machine's hardware record
   * from the run's resources and the newest lshw, so the record ends with this run's two whatever
   * their order. Output that is not the resources JSON is a 400 naming the script, and the whole
   * signal writes nothing.
   */
  private async applyCommissioningOutput(tx: EntityManager, m: Machine, input: SignalInput): Promise<void> {
    if (m.status !== S.COMMISSIONING || (input.exitStatus ?? 0) !== 0 || !this.scripts) return;
    const lshwNow = input.files.get(LSHW_SCRIPT) ?? input.files.get(`${LSHW_SCRIPT}.out`);
    const resourcesNow = input.files.get(`${RESOURCES_SCRIPT}.out`) ?? input.files.get(RESOURCES_SCRIPT);
    const resources =
      resourcesNow ??
      // lshw after the resources: this run's resources again, with it.
      (lshwNow ? await this.scripts.currentRunOutput(tx, m.id, RESOURCES_SCRIPT) : null);
    if (!resources) return;
    const lshw = lshwNow ?? (await this.scripts.latestOutput(tx, m.id, LSHW_SCRIPT));
    await applyHardwareReport(tx, m, hardwareFromCommissioningOutput({ resources, lshw: lshw ?? undefined }));
    // The tests this commissioning goes on to get the disks and interfaces it found: once, with the
    // resources (lshw after them changes only the firmware facts, not what the tests run on).
    if (resourcesNow) await regenerateTestingRuns(tx, m);
  }

  /**
   * The stand-in's installed OS fetching its user-data is how its deployment is known to be done.
   * A real OS's cloud-init fetches it long before it has run it: its final report decides instead.
   */
  async userDataFetched(machine: Machine): Promise<void> {
    if (machine.status !== S.DEPLOYING || machine.bootPurpose !== 'local') return;
    if (this.finishesWithCloudInit(machine)) return;
    await this.workflows.signal(lifecycleWorkflowId(machine.systemId), {
      kind: 'deployed-os',
      status: 'OK',
      message: '',
    });
  }

  /** cloud-init / curtin reporting events (`POST status/<system_id>`). */
  async statusEvent(
    machine: Machine,
    e: {
      event_type?: string;
      name?: string;
      description?: string;
      result?: string;
      origin?: string;
      /** cloud-init's stamp, seconds since the epoch (the router hands every field over as text). */
      timestamp?: string;
    },
  ): Promise<void> {
    const failed = e.result === 'FAIL' || e.result === 'FAILURE';
    const type = eventText(
      'event_type',
      `${e.origin ?? 'cloud-init'} ${e.event_type ?? 'event'}`,
      SIGNAL_LIMITS.eventTypeLength,
    );
    const description = eventText(
      'description',
      [e.name, e.description].filter(Boolean).join(': '),
      SIGNAL_LIMITS.eventDescriptionLength,
    );
    // The event and the signal stand or fall together (see signal()): a 503 writes nothing.
    await this.db.transaction(async (tx) => {
      // cloud-init stamps each event: the same stamp again is a retried POST (report-repeats.ts).
      const dedupeKey =
        e.timestamp !== undefined && /^\d{1,12}(\.\d{1,9})?$/.test(e.timestamp)
          ? reportKey(machine.id, e.timestamp, type, description, e.result)
          : undefined;
      const level = failed ? 'ERROR' : 'DEBUG';
      if (!(await recordEvent(tx, machine.id, { type, description, level, dedupeKey }))) return;
      if (this.isCloudInitFinal(machine, e)) {
        // SUCCESS or WARN (a module warned): the OS is up and configured, as the user asked.
        await this.deliver(tx, machine.systemId, {
          kind: 'deployed-os',
          status: failed ? 'FAILED' : 'OK',
          message: failed
            ? eventText('description', `cloud-init failed: ${description}`, SIGNAL_LIMITS.eventDescriptionLength)
            : '',
        });
        return;
      }
      await this.deliver(tx, machine.systemId, {
        kind: 'progress',
        status: 'WORKING',
        // Into the workflow's history: as bounded as the event.
        message: eventText('name', e.name ?? '', SIGNAL_LIMITS.eventDescriptionLength),
      });
    });
  }

  /**
   * The storage description the deploy installer lays out: the machine's own storage
   * configuration (storage/installer-description.ts), served only while the machine is being
   * deployed, the one time an installer asks. A configuration it cannot deploy is a 409 naming
   * the problems, which the installer reports as its failed step (FAILED_DEPLOYMENT).
   */
  async storageLayout(machine: Machine): Promise<string> {
    if (machine.status !== S.DEPLOYING)
      throw new ConflictError('The storage layout is served to the installer only while the machine is deploying.');
    if (!this.storage) throw new ConflictError('This region has no storage service.');
    const r = await this.storage.installerStorage(machine.systemId);
    if (!r.ok) throw new ConflictError(`Cannot deploy this storage configuration: ${r.problems.join(' ')}`);
    return r.description;
  }

  /**
   * The deployed OS's network configuration (network config v1, as MAAS hands curtin), which the
   * installer writes as /etc/cloud/cloud.cfg.d/50-curtin-networking.cfg: cloud-init renders it
   * on first boot. JSON is YAML, so the text is both. Served only while deploying, like the storage,
   * and to a DEPLOYED ephemeral machine, whose every netboot runs its OS from RAM again.
   */
  async networkConfig(machine: Machine): Promise<string> {
    if (machine.status !== S.DEPLOYING && !(machine.status === S.DEPLOYED && machine.ephemeralDeploy))
      throw new ConflictError(
        'The network configuration is served to the installer only while the machine is deploying.',
      );
    const config = renderNetworkConfig(await loadMachineNetwork(this.db.manager, machine.id));
    return `# ${machine.systemId}: written by metalflow from the machine's network configuration\n${JSON.stringify(config, null, 2)}\n`;
  }

  /**
   * cloud-init's last stage finishing on the installed OS (its webhook reporter, configured by the
   * installer: origin `cloudinit`, `finish` of `modules-final`) ends a real image's deployment.
   * The installer runs no cloud-init, so the boot purpose `local` leaves no ambiguity; an
   * ephemeral deploy's OS runs in the installer's own boot (after it reported the image in RAM).
   */
  private isCloudInitFinal(machine: Machine, e: { event_type?: string; name?: string; origin?: string }): boolean {
    return (
      machine.status === S.DEPLOYING &&
      (machine.bootPurpose === 'local' || machine.ephemeralDeploy) &&
      e.origin === 'cloudinit' &&
      e.event_type === 'finish' &&
      e.name === 'modules-final' &&
      this.finishesWithCloudInit(machine)
    );
  }

  /** A real OS (root-tgz, unpacked by the installer) runs cloud-init; the raw stand-in does not. */
  private finishesWithCloudInit(machine: Machine): boolean {
    return this.images?.named(`${machine.osystem}/${machine.distroSeries}`)?.filetype === 'root-tgz';
  }

  /** The public SSH keys cloud-init installs: the owner's, none for an unowned machine. */
  async publicKeys(machine: Machine): Promise<string[]> {
    if (machine.ownerId === null) return [];
    const rows: Array<{ key: string }> = await this.db.query(
      `SELECT key FROM ssh_keys WHERE user_id = $1 ORDER BY id`,
      [machine.ownerId],
    );
    return rows.map((r) => r.key);
  }
}
