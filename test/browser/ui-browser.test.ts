// The web UI in Debian's chromium (puppeteer-core) against a real region, worker and rack
// (test/helpers/stack.ts): sign in, filter and sort the list by keyboard and mouse, watch a
// fake-power machine commission, deploy and release without reloading, and check the pages'
// accessibility basics. Machines are added and acted on through the API until the UI's add form
// and actions exist (issue 19 items 1 and 2); the session then swaps those calls for UiSession steps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'puppeteer-core';
import { chromiumMissing, launchChromium, UiSession } from '../helpers/browser';
import { macAddress } from '../helpers/factories';
import { startStack, type Stack } from '../helpers/stack';

/** Commission, deploy and release of a fake machine, each step slow enough to be seen live. */
const FAKE_DELAY_MS = '800';
const STATUS_TIMEOUT_MS = 120_000;

describe('web UI in a real browser (chromium)', { skip: chromiumMissing() ?? false }, () => {
  let stack: Stack;
  let browser: Browser;
  const ids: Record<string, string> = {};

  const create = async (form: Record<string, string>) => {
    const r = await stack.call('POST', '/machines/', form);
    assert.equal(r.status, 200, r.text);
    const id = (r.body as { system_id: string }).system_id;
    ids[form.hostname!] = id;
    return id;
  };

  before(async () => {
    [stack, browser] = await Promise.all([startStack({}), launchChromium()]);
    for (const hostname of ['web-a', 'web-b', 'web-c']) await create({ hostname, deployed: 'true' });
    await create({
      hostname: 'web-fake',
      architecture: 'amd64/generic',
      mac_addresses: macAddress(),
      power_type: 'fake',
      power_parameters_fake_delay_ms: FAKE_DELAY_MS,
      commission: 'false',
    });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const rowHosts = (ui: UiSession) => ui.texts('tr[data-system-id] td:first-child a');

  it('signs in, then filters by keyboard, sorts and counts the list; every page has its labels and visible focus', async () => {
    const ui = await UiSession.open(browser, stack.apiUrl);
    await ui.goto('/machines');
    assert.match(ui.location(), /^\/MAAS\/r\/login/, 'signed out: the login');
    assert.deepEqual(await ui.accessibilityProblems(), [], 'login page');
    await ui.screenshot('login');
    await ui.login('admin', 'pw');
    assert.equal(ui.location(), '/MAAS/r/machines');

    assert.deepEqual(await ui.accessibilityProblems(), [], 'machine list');
    assert.deepEqual(await ui.keyboardFocusProblems(), [], 'machine list focus');
    // The search by keyboard alone: focus by its label, type, Enter submits the form.
    await ui.fillByLabel('Search', 'web-');
    await Promise.all([ui.page.waitForNavigation(), ui.page.keyboard.press('Enter')]);
    assert.equal(ui.location(), '/MAAS/r/machines?q=web-', 'the filter is in the URL (a bookmark)');
    assert.deepEqual(await rowHosts(ui), ['web-a', 'web-b', 'web-c', 'web-fake']);

    await ui.clickByText('Hostname ▲');
    assert.equal(ui.location(), '/MAAS/r/machines?q=web-&dir=desc');
    assert.deepEqual(await rowHosts(ui), ['web-fake', 'web-c', 'web-b', 'web-a']);

    // Counts per status, each a link that keeps the other filters.
    await ui.clickByText('New (1)');
    assert.equal(ui.location(), '/MAAS/r/machines?q=web-&status=new&dir=desc');
    assert.deepEqual(await rowHosts(ui), ['web-fake']);
    assert.equal(await ui.text('nav + p'), 'Machines 1–1 of 1');
    await ui.clickByText('All (4)');
    assert.deepEqual(await rowHosts(ui), ['web-fake', 'web-c', 'web-b', 'web-a']);
    await ui.screenshot('machine-list');

    // The other filter fields, typed as an operator would, keep the sort.
    await ui.fillByLabel('Owner', 'admin');
    await ui.clickByText('Filter');
    assert.equal(ui.location(), '/MAAS/r/machines?q=web-&owner=admin&dir=desc');
    assert.deepEqual(
      await rowHosts(ui),
      ['web-c', 'web-b', 'web-a'],
      "a registered deployed machine is its registrant's",
    );
    assert.deepEqual(ui.consoleErrors, [], 'no script or CSP errors');
  });

  it('operator session: a fake machine commissions, deploys and releases while the list and detail pages watch', async () => {
    const ui = await UiSession.open(browser, stack.apiUrl);
    await ui.login('admin', 'pw');
    await ui.goto('/machines?q=web-fake');
    const id = ids['web-fake']!;
    const status = `tr[data-system-id="${id}"] [data-live="status"]`;
    assert.equal(await ui.text(status), 'New');
    // A reload would drop this marker: the update must come from live.js, not a refresh.
    await ui.run('window.stayed = true');
    const commission = await stack.call('POST', `/machines/${id}/op-commission`, {});
    assert.equal(commission.status, 200, commission.text);
    const seen = (selector: string, want: string) => ui.waitForText(selector, want, STATUS_TIMEOUT_MS);
    await seen(status, 'Ready');
    assert.equal(await ui.run('window.stayed'), true, 'the page was not reloaded');

    await ui.clickByText('web-fake');
    assert.equal(ui.location(), `/MAAS/r/machine/${id}`);
    assert.deepEqual(await ui.accessibilityProblems(), [], 'machine detail');
    const eventsAtLoad = (await ui.texts('#events tr')).length;
    // Every value the step cell shows while the machine deploys.
    await ui.watchText('[data-live="step"]');
    const deploy = await stack.call('POST', `/machines/${id}/op-deploy`, { distro_series: 'jammy' });
    assert.equal(deploy.status, 200, deploy.text);
    await seen('[data-live="status"]', 'Deployed');
    await ui.screenshot('machine-detail-deployed');
    const steps = await ui.watched('[data-live="step"]');
    assert.ok(
      steps.some((s) => s !== '-'),
      `the workflow's current step was shown while deploying (saw ${JSON.stringify(steps)})`,
    );
    const eventTexts = await ui.texts('#events tr');
    assert.ok(eventTexts.length > eventsAtLoad, 'new events were added to the log');
    assert.ok(
      eventTexts.some((t) => /Deployed/.test(t)),
      'the log shows the deployment',
    );

    const release = await stack.call('POST', `/machines/${id}/op-release`, {});
    assert.equal(release.status, 200, release.text);
    await seen('[data-live="status"]', 'Ready');
    assert.equal(await ui.text('[data-live="status_message"]'), '-');

    await ui.clickByText('Log out');
    assert.match(ui.location(), /^\/MAAS\/r\/login/);
    assert.deepEqual(ui.consoleErrors, [], 'no script or CSP errors');
  });
});
