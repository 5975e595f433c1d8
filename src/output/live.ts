/**
 * Where interval views go: on a terminal, the screen is redrawn in place each
 * interval; anywhere else (a pipe, a file, CI logs) views are appended.
 */
export interface ViewWriter {
  write(text: string): void;
  end(): void;
}

export function liveWriter(stream: NodeJS.WriteStream = process.stdout): ViewWriter {
  const tty = stream.isTTY === true;
  let first = true;
  return {
    write(text: string) {
      if (tty) stream.write('\x1b[H\x1b[2J' + text + '\n');
      else stream.write((first ? '' : '\n') + text + '\n');
      first = false;
    },
    end() {
      /* nothing buffered */
    },
  };
}
