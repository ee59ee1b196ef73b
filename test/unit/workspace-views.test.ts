import { describe, expect, it } from 'vitest';
import { checkView, stateValues, TRIGGER_TTL_MS, WorkspaceViews } from '../../workspace/views.js';

/** The workspace's views follow Slack's rules (issue 16): a trigger opens one view within 3 s, hashes guard updates, limits are Slack's. */
const modal = (over: Record<string, unknown> = {}) => ({
  type: 'modal',
  title: { type: 'plain_text', text: 'Skip a step' },
  submit: { type: 'plain_text', text: 'Skip' },
  blocks: [{ type: 'input', block_id: 'reason', label: { type: 'plain_text', text: 'Reason' }, element: { type: 'plain_text_input', action_id: 'reason', max_length: 500 } }],
  ...over,
});

function views(issued: Record<string, number>) {
  return new WorkspaceViews({ teamId: 'T1', botId: 'B1', appId: 'A1' }, (id) => (issued[id] === undefined ? undefined : { at: issued[id], user: 'U1' }));
}

describe('workspace views', () => {
  it('a trigger opens one modal for its user within 3 s; an unknown, reused or expired one is refused as Slack refuses it', () => {
    const v = views({ fresh: 1000, old: 1000 });
    expect(v.open({ trigger_id: 'made-up', view: modal() }, false, 1500)).toMatchObject({ ok: false, error: 'invalid_arguments' });
    expect(v.open({ trigger_id: 'old', view: modal() }, false, 1000 + TRIGGER_TTL_MS + 1)).toEqual({ ok: false, error: 'expired_trigger_id' });
    const opened = v.open({ trigger_id: 'fresh', view: modal() }, false, 1000 + TRIGGER_TTL_MS);
    expect(opened).toMatchObject({ ok: true, view: { type: 'modal', title: { text: 'Skip a step' } } });
    expect(v.open({ trigger_id: 'fresh', view: modal() }, false, 1200)).toEqual({ ok: false, error: 'exchanged_trigger_id' });
    expect(v.modal('U1')?.view.title).toEqual({ type: 'plain_text', text: 'Skip a step' });
  });

  it('refuses a modal Slack would refuse: a long title, inputs without submit, too many blocks, a text input over 3000', () => {
    expect(checkView(modal({ title: { type: 'plain_text', text: 'x'.repeat(25) } }), 'modal').join()).toContain('/view/title/text');
    expect(checkView(modal({ submit: undefined }), 'modal').join()).toContain('needs a submit button');
    expect(checkView(modal({ blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) }), 'modal').join()).toContain('no more than 100 items');
    const tooLong = modal({ blocks: [{ type: 'input', label: { type: 'plain_text', text: 'R' }, element: { type: 'plain_text_input', max_length: 3001 } }] });
    expect(checkView(tooLong, 'modal').join()).toContain('max_length');
    expect(checkView({ type: 'home', blocks: [] }, 'home')).toEqual([]);
  });

  it('views.publish and views.update honour the hash; a submission answered with errors keeps the modal open with them, anything else closes it', () => {
    const v = views({ t: Date.now() });
    const home = v.publish({ user_id: 'U1', view: { type: 'home', blocks: [] } }, () => true);
    expect(home.ok).toBe(true);
    expect(v.publish({ user_id: 'U1', view: { type: 'home', blocks: [] }, hash: 'stale' }, () => true)).toEqual({ ok: false, error: 'hash_conflict' });
    const opened = v.open({ trigger_id: 't', view: modal() }, false, Date.now());
    const id = opened.ok ? String(opened.view.id) : '';
    expect(v.update({ view_id: id, view: modal(), hash: 'stale' })).toEqual({ ok: false, error: 'hash_conflict' });
    expect(v.applySubmissionResponse(id, { response_action: 'errors', errors: { reason: 'Write why' } })).toBe('errors');
    expect(v.modal('U1')?.errors).toEqual({ reason: 'Write why' });
    expect(v.applySubmissionResponse(id, undefined)).toBe('closed');
    expect(v.modal('U1')).toBeUndefined();
    expect(v.update({ view_id: id, view: modal() })).toEqual({ ok: false, error: 'not_found' });
  });

  it('builds state.values from what was entered, typed by each input element as the stored view declares it', () => {
    const v = views({ t: Date.now() });
    const blocks = [
      { type: 'input', block_id: 'rb', label: { type: 'plain_text', text: 'R' }, element: { type: 'static_select', action_id: 'rb', options: [{ text: { type: 'plain_text', text: 'KGV' }, value: 'kgv' }] } },
      { type: 'input', block_id: 'dry', label: { type: 'plain_text', text: 'D' }, element: { type: 'checkboxes', action_id: 'dry', options: [{ text: { type: 'plain_text', text: 'Dry' }, value: 'dry-run' }] } },
      { type: 'input', block_id: 'at', label: { type: 'plain_text', text: 'A' }, element: { type: 'datetimepicker', action_id: 'at' } },
    ];
    v.open({ trigger_id: 't', view: modal({ blocks }) }, false, Date.now());
    const stored = v.modal('U1');
    if (!stored) throw new Error('no modal');
    expect(stateValues(stored, { rb: 'kgv', dry: ['dry-run'], at: '1700000000' })).toEqual({
      rb: { rb: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'KGV' }, value: 'kgv' } } },
      dry: { dry: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'Dry' }, value: 'dry-run' }] } },
      at: { at: { type: 'datetimepicker', selected_date_time: 1700000000 } },
    });
    // An option the view never offered is not sent back.
    expect(stateValues(stored, { rb: 'other' }).rb).toEqual({ rb: { type: 'static_select', selected_option: null } });
  });
});
