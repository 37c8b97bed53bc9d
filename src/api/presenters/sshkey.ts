// MAAS's SSH key JSON (DISPLAY_SSHKEY_FIELDS + resource_uri). `keysource` is "protocol:auth_id"
// for keys imported from Launchpad/GitHub and "" otherwise; metalflow does not import keys.
import type { SshKey } from '../../region/services';

export function presentSshKey(k: SshKey): Record<string, unknown> {
  return { id: k.id, key: k.key, keysource: '', resource_uri: `/MAAS/api/2.0/account/prefs/sshkeys/${k.id}/` };
}
