// What each of one machine's operations asks for (commission, test, deploy): the options the API
// and the web UI pass to MachineActions, and the script parameters as a start request records them.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../db/entities';

/**
 * MAAS's skip_networking / skip_storage: the hardware report keeps the interfaces / block devices.
 * testingScripts: names or tags of the tests the environment runs after commissioning (none: no tests).
 */
export interface CommissionOptions {
  skipNetworking: boolean;
  skipStorage: boolean;
  testingScripts?: readonly string[];
  /** MAAS's script parameters, `<script>_<parameter>` or `<parameter>` → value (scripts/script-parameters.ts). */
  scriptParameters?: Readonly<Record<string, string>>;
}
export const NO_SKIPS: CommissionOptions = { skipNetworking: false, skipStorage: false };

/** op=test's testing_scripts: names or tags; undefined: MAAS's default set (those tagged commissioning). */
export interface TestOptions {
  testingScripts?: readonly string[];
  /** As CommissionOptions.scriptParameters. */
  scriptParameters?: Readonly<Record<string, string>>;
}

export interface DeployOptions {
  distroSeries: string;
  userData: string;
  agentName: string;
  /** For the request event (MAAS: "User starting deployment"). */
  comment: string;
  /** MAAS's ephemeral_deploy: run the image from RAM, disks untouched. */
  ephemeral?: boolean;
  /**
   * A storage layout laid out in the deploy's own transaction, after the caller's right to deploy
   * the machine is checked and before its storage is (the web UI's layout choice,
   * storage/layout-at-deploy.ts): a refused deploy leaves the storage as it was. Its name is part
   * of what the request asks (a repeat must ask the same).
   */
  storageLayout?: { name: string; layOut: (tx: EntityManager, m: Machine) => Promise<void> };
}

/**
 * Script parameters as a start request records them (a repeat asking other values is a 409), in
 * name order; none given adds nothing, so requests recorded before parameters existed still match.
 */
export function askedParameters(p: Readonly<Record<string, string>> | undefined): { script_parameters?: string } {
  const names = Object.keys(p ?? {}).sort();
  return names.length === 0 ? {} : { script_parameters: JSON.stringify(names.map((n) => [n, p![n]])) };
}
