// Request parameters of the machine endpoints → typed service inputs, declared once: the same
// declaration parses the request and documents it in describe/. Validation errors name the
// field, as MAAS's forms do.
import { ValidationError } from '../../region/errors';
import type {
  CommissionOptions as CommissionCommand,
  DeployOptions as DeployCommand,
  ReleaseOptions as ReleaseCommand,
  TestOptions as TestCommand,
} from '../../region/services/machine-actions';
import { MACHINE_FILTER_CAPS } from '../../region/services/machine-filter';
import { powerParametersFromForm } from '../../region/services/power-parameters';
import type { UpdateMachineInput } from '../../region/services/machine-service';
import type { EnrolInput } from '../../region/services/machine-operations';
import { field, form } from '../http';

const POWER_PARAMETERS = field.json(
  'The power parameters as a JSON object (python-libmaas sends this); power_parameters_{key} fields win.',
);
const POWER_FIELDS = field.prefixed("One power parameter of the power type (MAAS's names, e.g. power_address).");

/**
 * MAAS takes power parameters two ways: `power_parameters` as a JSON object (python-libmaas sends
 * this) and `power_parameters_<name>` fields, which win.
 */
function powerParameters(json: string | undefined, fieldValues: Record<string, string>): Record<string, string> {
  const fromJson: Record<string, string> = {};
  if (json !== undefined && json !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw ValidationError.field('power_parameters', 'Failed to parse JSON power_parameters.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw ValidationError.field('power_parameters', 'power_parameters must be a JSON object.');
    }
    for (const [k, v] of Object.entries(parsed)) fromJson[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return { ...fromJson, ...powerParametersFromForm(Object.entries(fieldValues)) };
}

/** testing_scripts as MAAS takes it: repeated, or comma-separated in one value; names or tags. */
const scriptNames = (values: readonly string[]): string[] =>
  values
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

export const createForm = form(
  {
    hostname: field.text('The hostname; generated when absent.', { maxLength: 63 }),
    architecture: field.text('The architecture, e.g. amd64/generic.'),
    mac_addresses: field.list('A MAC address of the machine.'),
    description: field.text('A description.', { maxLength: 10_000 }),
    power_type: field.text('The power type, e.g. ipmi, redfish, webhook, manual.'),
    power_parameters: POWER_PARAMETERS,
    power_parameters_: POWER_FIELDS,
    zone: field.text('The zone.'),
    pool: field.text('The resource pool.'),
    domain: field.text('The DNS domain (an existing one; see domains/); default: the default domain.'),
    deployed: field.bool('Register a machine already running a workload (admins): it is not commissioned.'),
    // metalflow's addition for deployed=true: the host's stable identity (maas-run-scripts sends it).
    host_id: field.text("With deployed=true: the host's stable identity; registering it again returns its machine.", {
      maxLength: 128,
    }),
    commission: field.bool('Commission the new machine (default true).'),
    testing_scripts: field.list(
      "Testing scripts' names or tags, comma-separated, run once commissioning passes (none given, or 'none': no tests); only when it commissions.",
    ),
    // MAAS's options python-libmaas's Machines.create() sends when asked: a documented 400.
    subarchitecture: field.unsupported('give it in architecture as arch/subarch, e.g. amd64/generic.'),
    min_hwe_kernel: field.unsupported("the image's own kernel is installed."),
    // Anonymous enlistment refuses every name it does not take, declared here or not.
    request_names: field.requestNames(),
  },
  (v): EnrolInput => ({
    hostname: v.hostname,
    architecture: v.architecture,
    macAddresses: v.mac_addresses,
    description: v.description,
    powerType: v.power_type,
    powerParameters: powerParameters(v.power_parameters, v.power_parameters_),
    zone: v.zone,
    pool: v.pool,
    domain: v.domain,
    deployed: v.deployed ?? false,
    hostId: v.host_id,
    commission: v.commission ?? true,
    testingScripts: scriptNames(v.testing_scripts).filter((n) => n !== 'none'),
    given: v.request_names,
  }),
);

export const updateForm = form(
  {
    hostname: field.text('The new hostname.', { maxLength: 63 }),
    architecture: field.text('The architecture.'),
    description: field.text('A description.', { maxLength: 10_000 }),
    power_type: field.text('The power type (admins).'),
    power_parameters: POWER_PARAMETERS,
    power_parameters_: POWER_FIELDS,
    zone: field.text('The zone.'),
    pool: field.text('The resource pool (pool admins: one they administer).'),
    domain: field.text('The DNS domain (an existing one; see domains/).'),
    cpu_count: field.int('The number of CPUs.', { min: 0, max: 100_000 }),
    memory: field.int('The memory in MiB.', { min: 0, max: 1 << 30 }),
  },
  (v): UpdateMachineInput => ({
    hostname: v.hostname,
    architecture: v.architecture,
    description: v.description,
    powerType: v.power_type,
    powerParameters: powerParameters(v.power_parameters, v.power_parameters_),
    zone: v.zone,
    pool: v.pool,
    domain: v.domain,
    cpuCount: v.cpu_count,
    memory: v.memory,
  }),
);

/** A parameter MAAS has that metalflow cannot honour yet: 400 naming it, rather than ignoring it. */
const unsupported = (name: string, why: string) => ValidationError.field(name, `${name} is not supported yet: ${why}`);

const TESTING_SCRIPTS_DOC =
  "Testing scripts' names or tags, comma-separated; an unknown one is a 400 that starts nothing.";
const ENABLE_SSH_WHY = 'the machine is powered off once its scripts finish, so it cannot be reached.';

/**
 * MAAS's script parameters: fields named after what the chosen scripts declare, so the form takes
 * any name it does not declare itself and the region checks each (scripts/script-parameters.ts).
 */
const scriptParameters = field.rest(
  "A parameter a chosen script declares (storage, interface, runtime, url, …), named <script>_<parameter> for that script or <parameter> for every chosen script that declares it. storage: 'all' (the default: one result per disk), a block device id, name, model, serial, model:serial or tag, comma-separated; interface: 'all' (the default: one result per interface), an interface id, name, MAC or tag; runtime: seconds (the script's timeout). A name no chosen script declares, a disk or interface the machine does not have or a bad value is a 400 that starts nothing.",
  { shownAs: '{script}_{parameter}', maxLength: 1024 },
);

const commissionFields = {
  enable_ssh: field.bool(`Not supported yet (true is refused): ${ENABLE_SSH_WHY}`),
  skip_bmc_config: field.bool('Either value: commissioning here never configures the BMC.'),
  skip_networking: field.bool("Keep the machine's interfaces as they are: the hardware report does not change them."),
  skip_storage: field.bool("Keep the machine's block devices as they are: the hardware report does not change them."),
  commissioning_scripts: field.unsupported(
    'commissioning runs every commissioning script (the built-ins and those uploaded); choosing some is not.',
  ),
  testing_scripts: field.list(
    `${TESTING_SCRIPTS_DOC} Run after commissioning passes; a failed test leaves the machine Failed testing. Default: none ('none' too).`,
  ),
};

function commissionCommand(v: {
  enable_ssh: boolean | undefined;
  skip_networking: boolean | undefined;
  skip_storage: boolean | undefined;
  testing_scripts: string[];
}): CommissionCommand {
  if (v.enable_ssh) throw unsupported('enable_ssh', ENABLE_SSH_WHY);
  const tests = scriptNames(v.testing_scripts).filter((s) => s !== 'none');
  return {
    skipNetworking: v.skip_networking ?? false,
    skipStorage: v.skip_storage ?? false,
    ...(tests.length > 0 ? { testingScripts: tests } : {}),
  };
}

/**
 * Commissioning's options: skip_networking / skip_storage are carried (the hardware report then
 * keeps the interfaces / block devices, as MAAS's hooks do); skip_bmc_config is a boolean with
 * nothing to skip, since commissioning here never configures the BMC; testing_scripts are run by
 * the environment once commissioning passes (none given, or `none`: no tests, unlike MAAS, whose
 * default runs those tagged commissioning); enable_ssh=true is refused. The page's form (web UI):
 * no script parameters, so the page's own fields are not taken for them.
 */
export const commissionForm = form(commissionFields, commissionCommand);

/** The API's op=commission: commissionForm and MAAS's script parameters. */
export const commissionApiForm = form(
  { ...commissionFields, parameters: scriptParameters },
  (v): CommissionCommand => ({ ...commissionCommand(v), ...givenParameters(v.parameters) }),
);

const testFields = {
  enable_ssh: field.bool(`Not supported yet (true is refused): ${ENABLE_SSH_WHY}`),
  testing_scripts: field.list(`${TESTING_SCRIPTS_DOC} Default: those tagged commissioning (smartctl-validate).`),
};

function testCommand(v: { enable_ssh: boolean | undefined; testing_scripts: string[] }): TestCommand {
  if (v.enable_ssh) throw unsupported('enable_ssh', ENABLE_SSH_WHY);
  const tests = scriptNames(v.testing_scripts);
  return tests.length > 0 ? { testingScripts: tests } : {};
}

/** MAAS's TestForm (op=test) as the web UI's page uses it: no script parameters. */
export const testForm = form(testFields, testCommand);

/** The API's op=test: MAAS's TestForm with its script parameters. */
export const testApiForm = form({ ...testFields, parameters: scriptParameters }, (v): TestCommand => ({
  ...testCommand(v),
  ...givenParameters(v.parameters),
}));

function givenParameters(p: Record<string, string>): { scriptParameters?: Record<string, string> } {
  return Object.keys(p).length > 0 ? { scriptParameters: p } : {};
}

export const deployForm = form(
  {
    user_data: field.text('Base64-encoded user data (cloud-init) for the deployed OS.'),
    distro_series: field.text("The OS release to deploy; default: the region's default boot resource."),
    hwe_kernel: field.text("Not supported yet (a non-empty value is refused): the image's own kernel is installed."),
    agent_name: field.text('An agent name recorded on the machine (Juju).'),
    comment: field.text('A comment for the event log.'),
    ephemeral_deploy: field.bool(
      'Run the image from RAM, disks untouched (MAAS 3.5): only a real OS image (root-tgz) can; release is then just a power off.',
    ),

    install_kvm: field.unsupported('metalflow has no KVM hosts.', 'Boolean'),
    register_vmhost: field.unsupported('metalflow has no VM hosts.', 'Boolean'),
    install_rackd: field.unsupported('a rack controller is installed with `metalflow rack`, not by deploy.', 'Boolean'),
    enable_hw_sync: field.unsupported('hardware is synced with maas-run-scripts report-results --periodic.', 'Boolean'),
    enable_kernel_crash_dump: field.unsupported("the deployed image's kernel settings are its own.", 'Boolean'),
    bridge_all: field.unsupported('the deployed network configuration has no bridges yet.', 'Boolean'),
    bridge_type: field.unsupported('the deployed network configuration has no bridges yet.'),
    bridge_stp: field.unsupported('the deployed network configuration has no bridges yet.', 'Boolean'),
    bridge_fd: field.unsupported('the deployed network configuration has no bridges yet.'),
    vcenter_registration: field.unsupported('no VMware images are deployed.', 'Boolean'),
  },
  (v): DeployCommand => {
    const userData = v.user_data ?? '';
    if (userData && !/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(userData)) {
      throw ValidationError.field('user_data', 'user_data must be base64-encoded.');
    }
    // Empty: the region's default boot resource (see MachineActions.deploy).
    const series = v.distro_series ?? '';
    if (series && !/^[a-z0-9][a-z0-9./-]{0,63}$/i.test(series))
      throw ValidationError.field('distro_series', `'${series}' is not a valid distro series.`);
    if (v.hwe_kernel) throw unsupported('hwe_kernel', "the image's own kernel is installed.");
    return {
      distroSeries: series,
      userData,
      agentName: v.agent_name ?? '',
      comment: v.comment ?? '',
      ephemeral: v.ephemeral_deploy ?? false,
    };
  },
);

export const releaseForm = form(
  {
    erase: field.bool('Erase the disks before releasing.'),
    secure_erase: field.bool("With erase: use the disks' secure erase."),
    quick_erase: field.bool('With erase: wipe the start and end of each disk only.'),
    // MAAS's force also deletes a KVM host's virtual machines; there are no KVM hosts here.
    force: field.bool('Accepted: with no KVM hosts here, a forced release is a release.'),
    comment: field.text('A comment for the event log.'),
  },
  (v): ReleaseCommand => ({
    // Absent: the `maas` config's defaults (enable_disk_erasing_on_release, disk_erase_with_*).
    erase: v.erase,
    secureErase: v.secure_erase,
    quickErase: v.quick_erase,
    comment: v.comment ?? '',
  }),
);

/** power_on: MAAS's event log comment; its user_data (cloud-init for this boot) is refused. */
export const powerOnForm = form(
  {
    comment: field.text('A comment for the event log.'),
    user_data: field.unsupported('a machine boots with the user data it was deployed with.'),
  },
  (v) => v.comment ?? '',
);

/** power_off: MAAS's stop_mode (hard, the default, is what every power driver does) and comment. */
export const powerOffForm = form(
  {
    stop_mode: field.text("'hard' (the default) cuts the power. 'soft' (an ACPI shutdown) is not supported yet."),
    comment: field.text('A comment for the event log.'),
  },
  (v) => {
    const mode = v.stop_mode ?? 'hard';
    if (mode === 'soft')
      throw ValidationError.field(
        'stop_mode',
        'stop_mode=soft is not supported yet: the power drivers only cut the power.',
      );
    if (mode !== 'hard') throw ValidationError.field('stop_mode', `stop_mode must be 'hard' or 'soft', not '${mode}'.`);
    return v.comment ?? '';
  },
);

/** Bulk release: the machines, and what the single release takes (MAAS's bulk release takes the comment only). */
export const bulkReleaseForm = form(
  {
    machines: field.list('A system_id of a machine to release (an empty list is acceptable).', {
      maxValues: MACHINE_FILTER_CAPS.systemId,
    }),
    erase: field.bool('Erase the disks before releasing.'),
    secure_erase: field.bool("With erase: use the disks' secure erase."),
    quick_erase: field.bool('With erase: wipe the start and end of each disk only.'),
    comment: field.text('A comment for the event log.'),
  },
  (v): { systemIds: string[]; options: ReleaseCommand } => ({
    systemIds: v.machines,
    // Absent erase options stay undefined: the maas config's erase defaults fill them in.
    options: { erase: v.erase, secureErase: v.secure_erase, quickErase: v.quick_erase, comment: v.comment ?? '' },
  }),
);

/** The event log comment most operations take. */
export const commentForm = form({ comment: field.text('A comment for the event log.') }, (v) => v.comment ?? '');
