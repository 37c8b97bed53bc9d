// The web UI in a real browser: Debian's /usr/bin/chromium, headless, driven by puppeteer-core.
// An operator's vocabulary (log in, open a page, fill a field by its label, click by visible text)
// so a whole session reads like what a person does; screenshots land in test-artifacts/screenshots
// (gitignored) and their paths are printed; a small in-page accessibility check (no axe-core here).
import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

// In-page code is written as JavaScript text: the project's TypeScript has no DOM types (adding
// them would retype fetch for the whole program), and tsx's __name() wrappers stay out of it.
const js = (fn: string, ...args: unknown[]) => `(${fn})(${args.map((a) => JSON.stringify(a)).join(', ')})`;
/**
 * The same for code run on an element: puppeteer evaluates a string as an expression and never
 * calls it with the handle, so the text becomes a real function (built here, serialized by puppeteer).
 */
const onElement = (fn: string, ...args: unknown[]) =>
  new Function('el', `return (${fn})(el, ...${JSON.stringify(args)});`) as (el: unknown) => unknown;

export const CHROMIUM = process.env.METALFLOW_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-artifacts', 'screenshots');
const UI = '/MAAS/r';

/** Why the browser tests cannot run here (no chromium), or null. */
export function chromiumMissing(): string | null {
  return fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install chromium)`;
}

export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers cannot use chromium's sandbox; /dev/shm is small in containers.
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--no-first-run',
    ],
  });
}

/** One signed-in (or not yet) tab on the region's UI. */
export class UiSession {
  private constructor(
    readonly page: Page,
    /** http://host:port, without /MAAS. */
    readonly origin: string,
  ) {}

  static async open(browser: Browser, apiUrl: string): Promise<UiSession> {
    const page = await (await browser.createBrowserContext()).newPage();
    await page.setViewport({ width: 1280, height: 900 });
    // A console error (a CSP refusal above all) is a bug in the page: collect them for the tests.
    const s = new UiSession(page, new URL(apiUrl).origin);
    // A page served with a 4xx (a form sent back with its errors) is logged as a failed resource:
    // that is the page's status, which the tests assert themselves, not an error in the page.
    const refusedPages = new Set<string>();
    page.on('response', (r) => {
      if (r.request().isNavigationRequest() && r.status() >= 400) refusedPages.add(r.url());
    });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (m.text().startsWith('Failed to load resource') && refusedPages.has(m.location().url ?? '')) return;
      s.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => s.consoleErrors.push(String(e)));
    return s;
  }

  readonly consoleErrors: string[] = [];

  /** Opens a UI path (`/machines?status=ready`) and waits for the page to load. */
  async goto(uiPath: string): Promise<void> {
    const r = await this.page.goto(`${this.origin}${UI}${uiPath}`, { waitUntil: 'load' });
    if (!r) throw new Error(`no response for ${uiPath}`);
  }

  /** The path and query the tab shows, without the origin. */
  location(): string {
    const u = new URL(this.page.url());
    return u.pathname + u.search;
  }

  async login(username: string, password: string): Promise<void> {
    await this.goto('/login');
    await this.fillByLabel('Username', username);
    await this.fillByLabel('Password', password);
    await this.clickByText('Log in');
  }

  /**
   * Types into the control whose <label> starts with `label` (wrapping or for=), as a person
   * would: focus, clear, type. Throws when no such label exists, so a missing label fails a test.
   */
  async fillByLabel(label: string, value: string): Promise<void> {
    const el = await this.byLabel(label);
    await el.click({ count: 3 });
    await el.evaluate(onElement(`(input) => { input.value = ''; }`));
    await el.type(value);
  }

  /** Ticks or clears the checkbox labelled `label` by clicking it, as a person would. */
  async setChecked(label: string, checked: boolean): Promise<void> {
    const el = await this.byLabel(label);
    if ((await el.evaluate(onElement(`(box) => box.checked`))) !== checked) await el.click();
  }

  /** Picks the option of the <select> labelled `label` whose value or visible text is `option`. */
  async selectByLabel(label: string, option: string): Promise<void> {
    const el = await this.byLabel(label);
    const value = await el.evaluate(
      onElement(
        `(select, wanted) => [...select.options].find((o) => o.value === wanted || o.text.trim() === wanted)?.value ?? null`,
        option,
      ),
    );
    if (value === null) throw new Error(`'${label}' on ${this.location()} has no option '${option}'`);
    // Focused as a person's pick leaves it, so the next Tab goes on from there.
    await el.focus();
    await el.select(value as string);
  }

  /** The options a <select> labelled `label` offers (their visible texts). */
  async optionsOf(label: string): Promise<string[]> {
    const el = await this.byLabel(label);
    return el.evaluate(onElement(`(select) => [...select.options].map((o) => o.text.trim())`)) as Promise<string[]>;
  }

  /** The control a <label> whose own text (not its children's) is `label` names; throws when none. */
  private async byLabel(label: string): Promise<ElementHandle> {
    const handle = await this.page.evaluateHandle(
      js(
        `(text) => {
          for (const l of document.querySelectorAll('label')) {
            const own = [...l.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
            if (own === text && l.control) return l.control;
          }
          return null;
        }`,
        label,
      ),
    );
    const el = handle.asElement() as ElementHandle | null;
    if (!el) throw new Error(`no field labelled '${label}' on ${this.location()}`);
    return el;
  }

  /** Presses a key in the focused field and waits for the navigation it starts (a form's submission). */
  async pressAndWait(key: 'Enter' | 'Space'): Promise<void> {
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), this.page.keyboard.press(key)]);
  }

  /** Clicks the link or button whose visible text is `text`, and waits for the navigation it starts. */
  async clickByText(text: string): Promise<void> {
    const handle = await this.page.evaluateHandle(
      js(
        `(wanted) => [...document.querySelectorAll('a, button, input[type=submit]')]
          .find((e) => (e.innerText || e.value || '').trim() === wanted) ?? null`,
        text,
      ),
    );
    const el = handle.asElement() as ElementHandle | null;
    if (!el) throw new Error(`nothing to click named '${text}' on ${this.location()}`);
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), el.click()]);
  }

  /** The trimmed text of the first element matching `selector`, or null. */
  async text(selector: string): Promise<string | null> {
    return this.run<string | null>(js(`(s) => document.querySelector(s)?.textContent.trim() ?? null`, selector));
  }

  /** The trimmed texts of every element matching `selector`. */
  async texts(selector: string): Promise<string[]> {
    return this.run<string[]>(
      js(`(s) => [...document.querySelectorAll(s)].map((e) => e.textContent.trim())`, selector),
    );
  }

  /** Runs JavaScript text in the page and returns its value. */
  run<T>(script: string): Promise<T> {
    return this.page.evaluate(script) as Promise<T>;
  }

  /** Waits until the first element matching `selector` reads `want` (the page changing it itself). */
  async waitForText(selector: string, want: string, timeoutMs: number): Promise<void> {
    await this.page.waitForFunction(
      js(`(s, w) => document.querySelector(s)?.textContent.trim() === w`, selector, want),
      { timeout: timeoutMs, polling: 200 },
    );
  }

  /** Records every text the element matching `selector` shows from now on (read with watched()). */
  async watchText(selector: string): Promise<void> {
    await this.page.evaluate(
      js(
        `(s) => {
          const seen = (window.__watched ??= {})[s] = [];
          const el = document.querySelector(s);
          new MutationObserver(() => seen.push(el.textContent.trim())).observe(el, { childList: true, characterData: true, subtree: true });
        }`,
        selector,
      ),
    );
  }

  watched(selector: string): Promise<string[]> {
    return this.run<string[]>(js(`(s) => window.__watched?.[s] ?? []`, selector));
  }

  /** Saves a full-page PNG and prints where (the CI keeps test-artifacts/). */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
    return file;
  }

  /** The accessibility basics of the page as shown: every problem found, [] when none. */
  accessibilityProblems(): Promise<string[]> {
    return this.run(js(ACCESSIBILITY_CHECK));
  }

  /**
   * Presses Tab through the page and reports focus problems: a stop whose focus is not visible
   * (no outline or box-shadow), or an order that jumps backwards in the document.
   */
  async keyboardFocusProblems(maxStops = 40): Promise<string[]> {
    await this.run(`document.activeElement?.blur()`);
    const problems: string[] = [];
    const stops: string[] = [];
    for (let i = 0; i < maxStops; i++) {
      await this.page.keyboard.press('Tab');
      const stop = await this.run<{ visible: boolean; index: number; name: string } | null>(
        js(`() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const style = getComputedStyle(el);
          const visible = el.matches(':focus-visible') &&
            ((style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none');
          // Its index among all elements: tab order should follow the document.
          const index = [...document.querySelectorAll('*')].indexOf(el);
          const text = (el.innerText || el.getAttribute('value') || '').trim().slice(0, 30);
          return { visible, index, name: el.tagName.toLowerCase() + (el.name ? '[name=' + el.name + ']' : '') + ' "' + text + '"' };
        }`),
      );
      if (!stop) break;
      if (stops.length && stop.index <= Number(stops.at(-1)!.split('|')[0])) break; // wrapped round
      stops.push(`${stop.index}|${stop.name}`);
      if (!stop.visible) problems.push(`focus is not visible on ${stop.name}`);
    }
    if (stops.length === 0) problems.push('no element takes keyboard focus');
    return problems;
  }
}

/** Runs in the page: labels, names, language, headings, tabindex. */
const ACCESSIBILITY_CHECK = `() => {
  const problems = [];
  const describe = (e) => '<' + e.tagName.toLowerCase() + (e.getAttribute('name') ? ' name=' + e.getAttribute('name') : '') + '>';
  if (!document.documentElement.lang) problems.push('<html> has no lang');
  if (!document.title.trim()) problems.push('the page has no title');
  if (document.querySelectorAll('h1').length !== 1) problems.push('the page should have exactly one <h1>');
  for (const e of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button'].includes(e.type)) continue;
    const labelled = [...(e.labels ?? [])].some((l) => l.textContent.trim() !== '') ||
      (e.getAttribute('aria-label') ?? '').trim() !== '' || Boolean(e.getAttribute('aria-labelledby'));
    if (!labelled) problems.push(describe(e) + ' has no label');
  }
  for (const e of document.querySelectorAll('a, button')) {
    const name = (e.innerText || e.getAttribute('aria-label') || e.getAttribute('title') || '').trim();
    if (!name) problems.push(describe(e) + ' has no accessible name');
  }
  for (const e of document.querySelectorAll('img')) if (!e.hasAttribute('alt')) problems.push(describe(e) + ' has no alt');
  for (const e of document.querySelectorAll('[tabindex]'))
    if (Number(e.getAttribute('tabindex')) > 0) problems.push(describe(e) + ' has a positive tabindex');
  for (const t of document.querySelectorAll('table'))
    if (t.tHead && t.tHead.querySelectorAll('th').length === 0) problems.push('a table header has no <th>');
  return problems;
}`;
