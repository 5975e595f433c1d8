import { describe, expect, it } from 'vitest';
import { fileWriteError, KnobRefused, toolWriteError } from '../../src/knobs/refused.js';

const errno = (code: string, text: string): Error => Object.assign(new Error(`${code}: ${text}, write`), { code });

describe('knob refusals', () => {
  it.each([
    ['EINVAL', 'invalid argument'],
    ['EPERM', 'operation not permitted'],
    ['EACCES', 'permission denied'],
    ['EROFS', 'read-only file system'],
  ])('a file write failing with %s is a refusal naming the file, the value and the errno', (code, text) => {
    const e = fileWriteError('/sys/fs/cgroup/x/cpu.max', '5000 100000', errno(code, text));
    expect(e).toBeInstanceOf(KnobRefused);
    expect((e as KnobRefused).errno).toBe(code);
    expect(e.message).toBe(`/sys/fs/cgroup/x/cpu.max refused 5000 100000: ${code} (${text})`);
  });

  it('any other failure is an error naming the file and the value, not a refusal', () => {
    const e = fileWriteError('/sys/fs/cgroup/x/cpu.max', '5000', errno('EBUSY', 'resource busy or locked'));
    expect(e).not.toBeInstanceOf(KnobRefused);
    expect(e.message).toBe('writing 5000 to /sys/fs/cgroup/x/cpu.max: EBUSY: resource busy or locked, write');
  });

  it("a tool's strerror text becomes the errno; other failures keep the tool's last line", () => {
    const argv = ['taskset', '-p', '-c', '1', '42'];
    const inval = toolWriteError('affinity of pid 42', argv, "taskset: failed to set pid 42's affinity: Invalid argument\n", 1);
    expect(inval).toBeInstanceOf(KnobRefused);
    expect(inval.message).toBe('affinity of pid 42: taskset -p -c 1 42 was refused: EINVAL (invalid argument)');
    const eperm = toolWriteError('affinity of pid 42', argv, "taskset: failed to set pid 42's affinity: Operation not permitted", 1);
    expect((eperm as KnobRefused).errno).toBe('EPERM');
    expect(eperm.message).toMatch(/^affinity of pid 42: taskset -p -c 1 42 was refused: EPERM \(operation not permitted\)/);
    const other = toolWriteError('affinity of pid 42', argv, 'taskset: something else\n', 1);
    expect(other).not.toBeInstanceOf(KnobRefused);
    expect(other.message).toBe('affinity of pid 42: taskset -p -c 1 42 failed: taskset: something else');
    expect(toolWriteError('x', ['t'], '', 3).message).toBe('x: t failed: exit 3');
  });
});
