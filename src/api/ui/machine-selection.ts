// The machine list's selection (issue 19): a checkbox per row, tied by its `form` attribute to one
// GET form under the table that names the action, so the list's table needs no enclosing form.
// The form leads to the selection's confirmation page (machine-actions-ui.ts), which shows which
// machines the action applies to; nothing is decided here.
import { html, type Html } from './html';
import { ACTION_SPECS } from './machine-action-specs';
import { SELECTION_PATH } from './machine-actions-ui';

const FORM_ID = 'machine-selection';

export function selectBox(systemId: string, hostname: string): Html {
  return html`<input type="checkbox" form="${FORM_ID}" name="system_id" value="${systemId}" id="select-${systemId}" aria-label="Select ${hostname}">`;
}

export function selectionForm(): Html {
  return html`<form method="get" action="${SELECTION_PATH}" id="${FORM_ID}">
<label for="selection-action">Take action on the selected machines</label> <select id="selection-action" name="action">${ACTION_SPECS.map((a) => html`<option value="${a.name}">${a.label.replace(/ machine$/, '')}</option>`)}</select>
<button type="submit" id="selection-submit">Take action…</button>
</form>`;
}
