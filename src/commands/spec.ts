/**
 * What each command file exports for the CLI (src/cli.ts): how its flags
 * become options (all input is validated there, before anything is loaded
 * or changed), the function that returns its data, and how that data is
 * shown. The same functions are the library API (src/index.ts).
 */

export interface CommandSpec<O, R> {
  /** Positional arguments and commander's flags -> the command's options (throws UsageError on bad input). */
  options(args: unknown[], flags: Flags): O | Promise<O>;
  /** The command itself: data, or a stream of it. */
  run(opts: O): Promise<R> | AsyncIterable<R>;
  /** How the data is shown: its view (loaded only when printed), JSON indentation, a live screen. */
  output: {
    view(opts: O): Promise<(item: R) => string | undefined>;
    indent?: number;
    live?: boolean;
    /** JSON without --json (compare --format json). */
    json?(opts: O): boolean;
  };
  /** The exit code a one-document result asks for (a regression, a failed check), and what to say on stderr. */
  after?(result: R, opts: O): { exitCode?: number; stderr?: string[] };
}

/** Commander's parsed options of one command. */
export type Flags = Record<string, unknown>;

/** A view that prints a rendered text and a newline. */
export const line =
  <T>(render: (r: T) => string) =>
  (r: T): string =>
    render(r) + '\n';
