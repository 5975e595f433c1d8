/**
 * io_prefetch: when a device's reads are sequential and slow, raise its
 * readahead (/sys/block/DEV/queue/read_ahead_kb) a bounded factor per step,
 * and restore it when the pattern ends (relax: restore, by default).
 */
import path from 'node:path';
import { z } from 'zod';
import type { Entity } from '../detect/paths.js';
import { actionCommon, num } from '../recipes/fields.js';
import { error, type Problem } from '../recipes/problems.js';
import type { ActionContext, ActionDef, Plan } from './action.js';

const DEVICE_TEXT = 'a block device name like "sda", "nvme0n1" or "loop0"';

const schema = z
  .strictObject({
    action: z.literal('io_prefetch'),
    ...actionCommon,
    factor: num(1.1, 16).optional().meta({ description: 'each step multiplies read_ahead_kb by this (default 2)' }),
    bounds: z.strictObject({ max_kb: num(4, 1_048_576, true).meta({ description: 'never raise read_ahead_kb above this' }) }),
    devices: z
      .array(z.string({ error: DEVICE_TEXT }).regex(/^[A-Za-z0-9._-]+$/, { error: DEVICE_TEXT }), { error: 'a list of block device names' })
      .min(1, { error: 'a list of at least one device' })
      .optional()
      .meta({ description: 'only these devices (default: any device the detector names)' }),
  })
  .meta({ description: "Raise a block device's read_ahead_kb while its reads are sequential and slow; restore it later" });

export type IoPrefetchParams = z.infer<typeof schema>;

function check(p: IoPrefetchParams): Problem[] {
  return p.bounds.max_kb % 4 === 0
    ? []
    : [error(['bounds', 'max_kb'], 'a multiple of 4 (the kernel keeps readahead in 4 KiB pages)', `${p.bounds.max_kb} (number)`)];
}

async function plan(ctx: ActionContext, p: IoPrefetchParams, target: Entity, kind: 'step' | 'relax'): Promise<Plan> {
  const dev = target.key;
  if (p.devices && !p.devices.includes(dev)) return { skip: `device ${dev} is not in the action's devices (${p.devices.join(', ')})` };
  const dir = ctx.host.blockDevice(dev);
  if (!dir) return { skip: `no /sys/block/${dev}/queue (a partition? readahead is set on the whole disk)` };
  const knob = { kind: 'file' as const, path: path.join(dir, 'queue', 'read_ahead_kb') };
  const old = await ctx.io.read(knob);
  const cur = Number(old);
  if (!Number.isInteger(cur) || cur < 0) return { skip: `cannot read ${knob.path} (${old})` };
  const factor = p.factor ?? 2;
  let next: number;
  let text: string;
  if (kind === 'relax') {
    const held = ctx.held.find((h) => h.knob.kind === 'file' && h.knob.path === knob.path);
    if (!held) return { skip: `readahead of ${dev} was not changed` };
    const orig = Number(held.original);
    next = Math.max(orig, Math.floor(cur / factor / 4) * 4);
    text = next <= orig ? held.original : String(next);
  } else {
    // Multiples of 4 KiB: the kernel stores pages and reads back a multiple of 4.
    next = Math.min(p.bounds.max_kb, Math.ceil((Math.max(cur, 4) * factor) / 4) * 4);
    if (next <= cur) return { skip: `readahead of ${dev} is at its bound (${p.bounds.max_kb} KiB)` };
    text = String(next);
  }
  if (text === old) return { skip: `readahead of ${dev} is already ${old} KiB` };
  return {
    changes: [
      {
        knob,
        old,
        new: text,
        bounds: { min: 0, max: p.bounds.max_kb },
        scopeTarget: { kind: 'device', dev },
        detail: `${kind === 'step' ? 'raise' : 'lower'} readahead ${old} -> ${text} KiB`,
      },
    ],
  };
}

export const ioPrefetch: ActionDef<IoPrefetchParams> = {
  name: 'io_prefetch',
  summary: "raise a block device's readahead while its reads are sequential and slow; restore it when they are not",
  knob: '/sys/block/DEV/queue/read_ahead_kb',
  bounds: 'never above bounds.max_kb; steps down only to the original value',
  reason: '{detail} on {target} because {evidence}',
  targets: ['device'],
  defaultRelax: 'restore',
  schema,
  check,
  plan,
};
