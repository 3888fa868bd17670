import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneStaleDeploys } from '../../../dev/deploy';

const HOUR = 60 * 60 * 1000;

describe('pruneStaleDeploys', () => {
  it('removes other ports’ old assemblies, outputs and logs, and keeps its own, fresh ones and anything else', () => {
    const root = mkdtempSync(join(tmpdir(), 'tandem-prune-'));
    const state = join(root, '.tandem');
    const nowMs = Date.UTC(2026, 10, 26, 12);
    const make = (path: string, ageMs: number, dir = false) => {
      if (dir) {
        mkdirSync(path, { recursive: true });
        writeFileSync(join(path, 'manifest.json'), '{}');
      } else {
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, '{}');
      }
      const at = new Date(nowMs - ageMs);
      utimesSync(path, at, at);
      return path;
    };
    const oldAssembly = make(join(root, 'cdk.local.out', '41001'), 7 * HOUR, true);
    const oldOutputs = make(join(state, 'outputs-41001.json'), 7 * HOUR);
    make(join(root, 'cdk.local.out', '4566'), 9 * HOUR, true); // its own port, however old
    make(join(state, 'outputs-4566.json'), 9 * HOUR);
    make(join(root, 'cdk.local.out', '42002'), HOUR / 4, true); // a deploy (or a bench) in progress next to it
    make(join(state, 'outputs-42002.json'), HOUR / 4);
    make(join(root, 'cdk.local.out', 'notes'), 9 * HOUR, true); // not a port: not ours to remove
    make(join(state, 'venv-stamp.json'), 9 * HOUR);
    // Logs of other ports go after a day, so a failed run's logs are there the same day.
    const oldLog = make(join(state, 'logs', 'ministack-41001.log'), 25 * HOUR);
    const oldDeployLog = make(join(state, 'logs', 'deploy-41001.log'), 25 * HOUR);
    make(join(state, 'logs', 'ministack-42002.log'), 9 * HOUR);
    make(join(state, 'logs', 'ministack-4566.log'), 50 * HOUR);
    make(join(state, 'logs', 'notes.log'), 50 * HOUR);

    const removed = pruneStaleDeploys(root, state, '4566', nowMs);

    expect(removed.sort()).toEqual([oldAssembly, oldOutputs, oldLog, oldDeployLog].sort());
    // Running it again removes nothing more.
    expect(pruneStaleDeploys(root, state, '4566', nowMs)).toEqual([]);
  });

  it('does nothing where nothing was ever deployed', () => {
    const root = mkdtempSync(join(tmpdir(), 'tandem-prune-'));
    expect(pruneStaleDeploys(root, join(root, '.tandem'), '4566', Date.now())).toEqual([]);
  });
});
