// A real-image deployment's phases from the machine's events (GET /events/?op=query&level=DEBUG),
// for `npm run bench -- deploy-real-bios|deploy-real-uefi`: power on → installer up (its first
// WORKING signal) → disk written (its OK signal) → first boot of the installed OS (cloud-init's
// first webhook event) → cloud-init done (the status change to Deployed). Pure: the e2e files
// fetch the events, test/unit/deploy-phases.test.ts checks this on lists.

/** One event as the API shows it (MAAS's event_to_dict). */
export interface ApiEvent {
  id: number;
  type: string;
  description: string;
  /** strftime("%a, %d %b. %Y %H:%M:%S") in UTC: whole seconds. */
  created: string;
}

export interface DeployPhases {
  /** Seconds between consecutive milestones (whole-second event times: each ±1 s). */
  phases: {
    power_on_to_installer_up: number;
    installer_up_to_disk_written: number;
    disk_written_to_first_boot: number;
    first_boot_to_cloud_init_done: number;
  };
  /** Power on → Deployed, the deployment as the user waits for it once the machine is powered. */
  total_seconds: number;
  /** op-deploy accepted (the status change to Deploying) → the first power-on event. */
  accepted_to_power_on_seconds: number;
  /** Inside disk_written_to_first_boot: the installer's OK → the region powering the machine on again. */
  disk_written_to_power_on_again_seconds: number | null;
  /** Each milestone's event time (ISO), for reading the numbers against the event list. */
  milestones: Record<string, string>;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Fri, 07 Dec. 2018 20:11:08" (UTC) → epoch milliseconds. */
export function parseEventTime(created: string): number {
  const m = /^\w{3}, (\d{2}) (\w{3})\. (\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(created);
  const month = m ? MONTHS.indexOf(m[2]!) : -1;
  if (!m || month < 0) throw new Error(`not a MAAS event time: ${JSON.stringify(created)}`);
  return Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/**
 * The phases of the machine's last deployment. Events may come in any order (the API pages newest
 * first); ids order them. The deployment is the last status change to Deployed and what led to it
 * since the status change to Deploying before it, so commissioning's own power-on and signals
 * before it do not count. Throws naming the milestone that is missing.
 */
export function deployPhases(events: ApiEvent[]): DeployPhases {
  const ev = [...events].sort((a, b) => a.id - b.id);
  const deployed = ev.findLastIndex((e) => e.type === 'Deployed');
  if (deployed < 0) throw new Error('no status change to Deployed among the events');
  const previous = ev.slice(0, deployed).findLastIndex((e) => e.type === 'Deployed');
  // Status changes read "<from> -> <to>."; the workflow's own Deploying events say what it does.
  const accepted = ev.findIndex((e, i) => i > previous && i < deployed && e.type === 'Deploying');
  if (accepted < 0) throw new Error('no status change to Deploying before Deployed');
  const after = (from: number, what: string, match: (e: ApiEvent) => boolean): number => {
    const i = ev.findIndex((e, j) => j > from && j < deployed && match(e));
    if (i < 0) throw new Error(`no ${what} event in the deployment`);
    return i;
  };
  const signal = (status: string) => (e: ApiEvent) =>
    e.type === 'Node status event' && e.description.startsWith(`Signal ${status}`);
  const powerOn = after(accepted, 'power-on', (e) => e.type === 'Powering on');
  const installerUp = after(powerOn, "installer's WORKING", signal('WORKING'));
  const diskWritten = after(installerUp, "installer's OK", signal('OK'));
  const firstBoot = after(diskWritten, "cloud-init's first", (e) => e.type.startsWith('cloudinit '));
  const powerOnAgain = ev.findIndex((e, j) => j > diskWritten && j < firstBoot && e.type === 'Powering on');

  const at = (i: number) => parseEventTime(ev[i]!.created);
  const seconds = (from: number, to: number) => (at(to) - at(from)) / 1000;
  const iso = (i: number) => new Date(at(i)).toISOString();
  return {
    phases: {
      power_on_to_installer_up: seconds(powerOn, installerUp),
      installer_up_to_disk_written: seconds(installerUp, diskWritten),
      disk_written_to_first_boot: seconds(diskWritten, firstBoot),
      first_boot_to_cloud_init_done: seconds(firstBoot, deployed),
    },
    total_seconds: seconds(powerOn, deployed),
    accepted_to_power_on_seconds: seconds(accepted, powerOn),
    disk_written_to_power_on_again_seconds: powerOnAgain < 0 ? null : seconds(diskWritten, powerOnAgain),
    milestones: {
      deploy_accepted: iso(accepted),
      power_on: iso(powerOn),
      installer_up: iso(installerUp),
      disk_written: iso(diskWritten),
      first_boot: iso(firstBoot),
      cloud_init_done: iso(deployed),
    },
  };
}
