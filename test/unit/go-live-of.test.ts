import { describe, expect, it } from 'vitest';
import { goLiveOf } from '../../runbook/go-live.js';
import { cmd, planOfSteps, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

const plan = planOfSteps([{ id: 'go', approve: 'dba', action: 'switch' }]);
const base = [startCommand({ plan }), cmd.approve('go', USERS.dba1), cmd.started('go')];

describe('goLiveOf: the go-live time post-go-live rollback steps export from', () => {
  it('is the succeeded switch step’s recorded time', () => {
    const state = stateAfter([...base, cmd.succeeded('go', { details: { goLiveAt: '2026-11-21T03:10:00.000Z' } })]);
    expect(goLiveOf(state)).toEqual({ goLiveAt: '2026-11-21T03:10:00.000Z' });
  });

  it('counts a switch that went live but failed its smoke checks, and not one whose flip failed', () => {
    const smokeFailed = stateAfter([...base, cmd.failed('go', { code: 'switch.smoke_failed', details: { goLiveAt: '2026-11-21T03:10:00.000Z', switched: true } })]);
    expect(goLiveOf(smokeFailed)).toEqual({ goLiveAt: '2026-11-21T03:10:00.000Z' });
    const flipFailed = stateAfter([...base, cmd.failed('go', { code: 'switch.flip_failed', details: { switched: false } })]);
    expect(goLiveOf(flipFailed)).toEqual({});
  });

  it('is absent before any switch', () => {
    expect(goLiveOf(stateAfter([startCommand({ plan })]))).toEqual({});
  });
});
