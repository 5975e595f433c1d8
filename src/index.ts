/** The public API of tuner: the same functions the CLI calls. */
export { watch, type WatchOptions } from './commands/watch.js';
export { resolveScope, type Scope } from './scope/resolve.js';
export { openSource, type RecordSource, type AnyRecord } from './signals/open.js';
export { doctor, type DoctorReport, type Check } from './commands/doctor.js';
export { cleanup, type CleanupResult } from './commands/cleanup.js';
export { openSchedBpf, type SchedScope, type SignalReader } from './signals/sched.js';
export { openSchedBpftrace } from './signals/sched-bpftrace.js';
export { buildSchedRecord, type SchedRecord, type SchedDelta } from './signals/sched-record.js';
export { TunerError, UsageError, KernelError, ToolError, InternalError } from './errors.js';
